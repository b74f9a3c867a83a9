{{/* The namespace of every object. */}}
{{- define "webos.namespace" -}}
{{- .Values.namespace.name | default .Release.Namespace -}}
{{- end -}}

{{/* Labels of a workload: (dict "name" … "tier" … "root" $). */}}
{{- define "webos.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: webos
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
webos.io/tier: {{ .tier }}
{{- end -}}

{{/* An image reference: (dict "name" … "image" <override map or nil> "root" $); a digest wins over a tag. */}}
{{- define "webos.image" -}}
{{- $img := .image | default dict -}}
{{- $v := .root.Values.image -}}
{{- $repo := $img.repository | default (printf "%s/%s" $v.registry .name) -}}
{{- $digest := $img.digest | default (get $v.digests .name) -}}
{{- if $digest -}}
{{ $repo }}@{{ $digest }}
{{- else -}}
{{ $repo }}:{{ $img.tag | default $v.tag | default .root.Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "webos.natsUrl" -}}
{{ if .Values.tls.enabled }}tls{{ else }}nats{{ end }}://{{ .Values.nats.url }}
{{- end -}}

{{/* The shared configuration (ConfigMap data, and the hook Job's env, which runs before the ConfigMap exists). */}}
{{- define "webos.config" -}}
{{- $c := .Values.config -}}
{{- $ns := include "webos.namespace" . -}}
WEBOS_ENV: {{ $c.env | quote }}
WEBOS_LOG_LEVEL: {{ $c.logLevel | quote }}
WEBOS_LOG_FORMAT: "json"
WEBOS_HOST: "0.0.0.0"
WEBOS_STATE_DIR: "/var/lib/webos"
WEBOS_MONGO_DB: {{ $c.mongoDb | quote }}
WEBOS_NATS_URL: {{ include "webos.natsUrl" . | quote }}
WEBOS_BUS_REPLICAS: {{ .Values.nats.replicas | quote }}
{{- if .Values.tls.enabled }}
WEBOS_NATS_CA_FILE: "/etc/webos/tls/ca.crt"
{{- end }}
WEBOS_S3_ENDPOINT_URL: {{ $c.s3.endpointUrl | quote }}
WEBOS_S3_BUCKET: {{ $c.s3.bucket | quote }}
WEBOS_STORAGE_HOME_SOURCE: {{ $c.storageHomeSource | quote }}
WEBOS_PUBLIC_URL: {{ $c.publicUrl | quote }}
{{- range $name, $svc := .Values.services }}
{{ printf "WEBOS_%s_URL" (ternary "SHELL" (upper $name) (eq $name "shell-ui")) }}: {{ printf "http://%s.%s.svc:%v" $name $ns $svc.port | quote }}
{{- end }}
{{- range $k, $v := $c.extra }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy peers from a `from` list. */}}
{{- define "webos.peers" -}}
{{- range . }}
{{- if eq . "webos" }}
- podSelector:
    matchLabels: {app.kubernetes.io/part-of: webos}
{{- else if hasPrefix "tier:" . }}
- podSelector:
    matchLabels: {webos.io/tier: {{ trimPrefix "tier:" . }}}
{{- else }}
- podSelector:
    matchLabels: {app.kubernetes.io/name: {{ . }}}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level hardening shared by workloads and the hook Job. */}}
{{- define "webos.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "webos.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  capabilities: {drop: ["ALL"]}
  seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{/* The trust anchor's Secret (ca.crt). */}}
{{- define "webos.caSecret" -}}
{{- .Values.tls.caSecret | default "webos-trust" -}}
{{- end -}}

{{/* Volumes of a process: (dict "principal" … "root" $). */}}
{{- define "webos.volumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 256Mi}
- name: state
  emptyDir: {sizeLimit: 1Gi}
- name: credential
  secret:
    secretName: {{ printf "%s%s" .root.Values.secrets.credentialPrefix (.principal | replace "_" "-") }}
    defaultMode: 0400
{{- if .root.Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "webos.caSecret" .root }}
    items: [{key: ca.crt, path: ca.crt}]
{{- end }}
{{- end -}}

{{- define "webos.volumeMounts" -}}
- {name: tmp, mountPath: /tmp}
- {name: state, mountPath: /var/lib/webos}
- {name: credential, mountPath: /etc/webos/credential, readOnly: true}
{{- if .root.Values.tls.enabled }}
- {name: tls, mountPath: /etc/webos/tls, readOnly: true}
{{- end }}
{{- end -}}

{{/* The process's identity on NATS and at auth. */}}
{{- define "webos.identityEnv" -}}
- name: WEBOS_CREDENTIAL_FILE
  value: /etc/webos/credential/credential.nk
- name: WEBOS_PRINCIPAL
  value: {{ .principal | quote }}
{{- end -}}
