/**
 * Shell completion scripts for the standalone `kubectl-nsm_upgrade` command. Both ask the tool
 * itself (`kubectl-nsm_upgrade completion __complete -- <words>`) and read the same Cobra-style
 * answer kubectl reads from `kubectl_complete-nsm_upgrade`, so `kubectl nsm-upgrade <TAB>` and
 * `kubectl-nsm_upgrade <TAB>` offer the same candidates. Pure: text only.
 */

export const shells = ['bash', 'zsh'] as const;
export type Shell = (typeof shells)[number];

/** The shell to write a script for when none is named: zsh when run from zsh, else bash. */
export function detectShell(env: NodeJS.ProcessEnv): Shell {
  return (env.ZSH_NAME ?? '').includes('zsh') || (env.SHELL ?? '').includes('zsh') ? 'zsh' : 'bash';
}

const command = 'kubectl-nsm_upgrade';

const kubectlNote = `# As a kubectl plugin (\`kubectl nsm-upgrade <TAB>\`, kubectl 1.26+ with kubectl's own completion
# loaded), kubectl runs the executable kubectl_complete-nsm_upgrade from PATH instead; it ships
# next to kubectl-nsm_upgrade (bin/ in the npm package, the release archive for krew).`;

export function bashScript(): string {
  return `# bash completion for ${command} (kubectl nsm-upgrade)
#
# Install: ${command} completion bash > ~/.local/share/bash-completion/completions/${command}
#      or: echo 'source <(${command} completion bash)' >> ~/.bashrc
${kubectlNote}
_kubectl_nsm_upgrade_complete() {
  local out line directive
  out=$(${command} completion __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=\${out##*:}
  [[ $directive =~ ^[0-9]+$ ]] || directive=0
  COMPREPLY=()
  while IFS= read -r line; do
    [[ -z $line || $line == :* ]] && continue
    COMPREPLY+=("\${line%%$'\\t'*}")
  done <<< "$out"
  if (( \${#COMPREPLY[@]} == 0 && (directive & 4) )); then
    compopt +o default 2>/dev/null
  fi
  return 0
}
complete -o default -F _kubectl_nsm_upgrade_complete ${command}
`;
}

export function zshScript(): string {
  return `#compdef ${command}
# zsh completion for ${command} (kubectl nsm-upgrade)
#
# Install: ${command} completion zsh > "\${fpath[1]}/_${command}"
#      or: echo 'source <(${command} completion zsh)' >> ~/.zshrc   (after compinit)
${kubectlNote}
_kubectl_nsm_upgrade_complete() {
  local out line name desc directive
  local -a lines candidates
  out=$(${command} completion __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  [[ $directive == <-> ]] || directive=0
  for line in "\${(@)lines[1,-2]}"; do
    [[ -z $line ]] && continue
    name=\${line%%$'\\t'*}
    desc=\${line#*$'\\t'}
    [[ $desc == "$line" ]] && desc=''
    candidates+=("\${name//:/\\\\:}\${desc:+:$desc}")
  done
  if (( \${#candidates} )); then
    _describe 'kubectl nsm-upgrade' candidates
  elif (( !(directive & 4) )); then
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _kubectl_nsm_upgrade_complete "$@"
else
  compdef _kubectl_nsm_upgrade_complete ${command}
fi
`;
}

export function completionScript(shell: Shell): string {
  return shell === 'zsh' ? zshScript() : bashScript();
}
