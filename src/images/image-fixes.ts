/**
 * What to do about an image the check refused (pure): the command that mirrors it from where the
 * vendor's chart pulls it by default, the credential to fix, or the platforms to copy.
 */
import { chartImages, defaultRegistryServer } from './chart-images.ts';
import { parseImageRef, type ImageRef } from './reference.ts';
import type { RegistryCredential } from './registry-client.ts';

/** The last path component with its tag ("nginx-mesh-sidecar:2.0.0"). */
const nameTag = (r: ImageRef) =>
  `${r.repository.slice(r.repository.lastIndexOf('/') + 1)}${r.digest ? '@' : ':'}${r.reference}`;

/**
 * Pure: where the `version` chart pulls the same image when nothing is mirrored (the vendor's registry
 * for NSM's own images, the public one for SPIRE, NATS, kubectl, ...), or undefined when `image` is
 * already there or the chart does not name it.
 */
export function publicSource(image: string, version: string, tag: string): string | undefined {
  const ref = parseImageRef(image);
  if (!ref) return undefined;
  const defaults = ['kubernetes', 'openshift'] as const;
  for (const environment of defaults) {
    for (const u of chartImages(version, {
      server: defaultRegistryServer,
      tag,
      disablePublicImages: false,
      environment,
    }) ?? []) {
      const pub = parseImageRef(u.image);
      if (pub && nameTag(pub) === nameTag(ref) && `${pub.host}/${pub.repository}` !== `${ref.host}/${ref.repository}`)
        return u.image;
    }
  }
  return undefined;
}

/** Pure: the fix for an image its registry does not have. */
export function missingFix(image: string, version: string, tag: string): string {
  const src = publicSource(image, version, tag);
  if (src)
    return `mirror it (all platforms): crane copy ${src} ${image}   or   skopeo copy --all docker://${src} docker://${image}`;
  return `check that ${image} exists (the tag, registry.server / --deploy-flag registry-server, --deploy-flag image-tag), or mirror it there`;
}

/** Pure: the fix for credentials a registry refused, or for none where it needs some. */
export function deniedFix(image: string, cred: RegistryCredential | undefined): string {
  const host = parseImageRef(image)?.host ?? image;
  if (!cred)
    return `give the install credentials for ${host} (--deploy-flag registry-username=USER --deploy-flag registry-password=PASSWORD, or the release's registry.username/registry.password), or log in on this machine (docker login ${host}) if the nodes have their own`;
  if (cred.from.startsWith('Secret '))
    return `fix the credential in ${cred.from} (it is made from the release's registry.username/registry.password: upgrade with --deploy-flag registry-username=USER --deploy-flag registry-password=PASSWORD)`;
  if (cred.from.includes('docker') || cred.from.endsWith('.json'))
    return `log in again on this machine: docker login ${host} (the check used ${cred.from})`;
  return `fix the registry credentials in ${cred.from}: --deploy-flag registry-username=USER --deploy-flag registry-password=PASSWORD (they replace the release's registry.username/registry.password)`;
}

/** Pure: the fix for an image without the nodes' platforms. */
export function platformFix(image: string, version: string, tag: string, missing: readonly string[]): string {
  const src = publicSource(image, version, tag);
  return `mirror it again with every platform (${missing.join(', ')} is needed)${src ? `: crane copy ${src} ${image}   or   skopeo copy --all docker://${src} docker://${image}` : ', or push an image built for those platforms'}`;
}
