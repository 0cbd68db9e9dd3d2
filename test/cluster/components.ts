import path from 'node:path';
import type { Pki } from './pki.ts';

/** Ports and paths of one local cluster. */
export interface Layout {
  dir: string;
  bin: string;
  etcdPort: number;
  etcdPeerPort: number;
  apiPort: number;
  kwokPort: number;
  kubeconfig: string;
  /** EgressSelectorConfiguration file (see egressSelectorConfig). */
  egressConfig: string;
}

/**
 * The API server's egress selector: cluster traffic (aggregated APIs, the service and pod proxy,
 * webhooks with a Service reference, kubelet calls) goes through an HTTP CONNECT proxy on a Unix
 * socket, as with konnectivity. The mesh emulator serves it and plays the mesh's pods behind it;
 * nothing is routed to the fake pod IPs. Webhooks with a URL use the control-plane egress (direct).
 */
export function egressSelectorConfig(socket: string): string {
  return [
    'apiVersion: apiserver.k8s.io/v1beta1',
    'kind: EgressSelectorConfiguration',
    'egressSelections:',
    '- name: cluster',
    '  connection:',
    '    proxyProtocol: HTTPConnect',
    '    transport:',
    '      uds:',
    `        udsName: ${socket}`,
    '',
  ].join('\n');
}

export interface ComponentSpec {
  name: string;
  bin: string;
  args: string[];
}

/** The command lines of every component, as data (the order is the start order). */
export function componentSpecs(l: Layout, pki: Pki): ComponentSpec[] {
  const b = (n: string) => path.join(l.bin, n);
  const etcdUrl = `http://127.0.0.1:${l.etcdPort}`;
  const peerUrl = `http://127.0.0.1:${l.etcdPeerPort}`;
  return [
    {
      name: 'etcd',
      bin: b('etcd'),
      args: [
        '--name',
        'local',
        '--data-dir',
        path.join(l.dir, 'etcd'),
        '--listen-client-urls',
        etcdUrl,
        '--advertise-client-urls',
        etcdUrl,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `local=${peerUrl}`,
        '--listen-metrics-urls',
        '',
        '--quota-backend-bytes',
        String(8 * 1024 ** 3),
        '--log-level',
        'warn',
      ],
    },
    {
      name: 'kube-apiserver',
      bin: b('kube-apiserver'),
      args: [
        '--etcd-servers',
        etcdUrl,
        '--bind-address',
        '127.0.0.1',
        '--advertise-address',
        '127.0.0.1',
        '--secure-port',
        String(l.apiPort),
        '--tls-cert-file',
        pki.serverCert,
        '--tls-private-key-file',
        pki.serverKey,
        '--client-ca-file',
        pki.caCert,
        '--service-account-key-file',
        pki.saPub,
        '--service-account-signing-key-file',
        pki.saKey,
        '--service-account-issuer',
        'https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range',
        '10.0.0.0/24',
        '--authorization-mode',
        'Node,RBAC',
        '--allow-privileged=true',
        '--requestheader-client-ca-file',
        pki.frontProxyCaCert,
        '--requestheader-allowed-names',
        'front-proxy-client',
        '--requestheader-username-headers',
        'X-Remote-User',
        '--requestheader-group-headers',
        'X-Remote-Group',
        '--requestheader-extra-headers-prefix',
        'X-Remote-Extra-',
        '--proxy-client-cert-file',
        pki.frontProxyClientCert,
        '--proxy-client-key-file',
        pki.frontProxyClientKey,
        '--enable-aggregator-routing=true',
        '--egress-selector-config-file',
        l.egressConfig,
        // Many objects are created and deleted quickly by tests and benchmarks; keep the server responsive.
        '--max-requests-inflight',
        '800',
        '--max-mutating-requests-inflight',
        '400',
        '--v',
        '1',
      ],
    },
    {
      name: 'kube-controller-manager',
      bin: b('kube-controller-manager'),
      args: [
        '--kubeconfig',
        l.kubeconfig,
        '--authentication-kubeconfig',
        l.kubeconfig,
        '--authorization-kubeconfig',
        l.kubeconfig,
        '--bind-address',
        '127.0.0.1',
        '--secure-port',
        '0',
        '--leader-elect=false',
        '--service-account-private-key-file',
        pki.saKey,
        '--root-ca-file',
        pki.caCert,
        '--cluster-signing-cert-file',
        pki.caCert,
        '--cluster-signing-key-file',
        pki.caKey,
        '--use-service-account-credentials=false',
        '--controllers',
        '*,-nodeipam',
        // A default StorageClass that provisions, as most users' clusters have (the real charts' SPIRE
        // server asks for a PersistentVolumeClaim): the built-in hostPath provisioner, under the cluster dir.
        '--enable-hostpath-provisioner=true',
        '--concurrent-deployment-syncs',
        '20',
        '--concurrent-replicaset-syncs',
        '20',
        '--concurrent-statefulset-syncs',
        '10',
        '--kube-api-qps',
        '200',
        '--kube-api-burst',
        '400',
        '--v',
        '1',
      ],
    },
    {
      name: 'kube-scheduler',
      bin: b('kube-scheduler'),
      args: [
        '--kubeconfig',
        l.kubeconfig,
        '--authentication-kubeconfig',
        l.kubeconfig,
        '--authorization-kubeconfig',
        l.kubeconfig,
        '--bind-address',
        '127.0.0.1',
        '--secure-port',
        '0',
        '--leader-elect=false',
        '--kube-api-qps',
        '200',
        '--kube-api-burst',
        '400',
        '--v',
        '1',
      ],
    },
    {
      name: 'kwok',
      bin: b('kwok'),
      args: [
        '--kubeconfig',
        l.kubeconfig,
        '--manage-all-nodes=true',
        '--cidr',
        '10.244.0.0/16',
        '--node-ip',
        '127.0.0.1',
        '--config',
        path.join(import.meta.dirname, 'kwok-node-stages.yaml'),
        '--config',
        path.join(import.meta.dirname, 'kwok-stages.yaml'),
        '--server-address',
        `127.0.0.1:${l.kwokPort}`,
      ],
    },
  ];
}
