{{/*
One WebOS process: Deployment, ServiceAccount, Service, HPA, PDB, NetworkPolicy.
(dict "root" $ "name" … "tier" service|module|worker "principal" … "image" …
      "port" <int or nil> "probePort" <int or nil: no API, only probes> "command" <list or nil> "args" <list or nil>
      "replicas" {min,max} "resources" … "from" [...] "public" bool "env" [...]
      "principals" bool)
*/}}
{{- define "webos.workload" -}}
{{- $root := .root -}}
{{- $ns := include "webos.namespace" $root -}}
{{- $labels := include "webos.labels" (dict "name" .name "tier" .tier "root" $root) -}}
{{- $replicas := .replicas | default $root.Values.defaults.replicas -}}
{{- $resources := .resources | default $root.Values.defaults.resources -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  replicas: {{ $replicas.min }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels:
        {{- $labels | nindent 8 }}
      annotations:
        {{- /* /metrics on the API port, or on the probe port of a process without an API (the worker) */}}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .port | default .probePort | quote }}
    spec:
      serviceAccountName: {{ .name }}
      terminationGracePeriodSeconds: 30
      {{- include "webos.podSecurity" $root | nindent 6 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {{ .name }}
      containers:
        - name: {{ .name }}
          image: {{ .image }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          {{- with .command }}
          command: {{ toJson . }}
          {{- end }}
          {{- with .args }}
          args: {{ toJson . }}
          {{- end }}
          envFrom:
            - configMapRef: {name: webos-config}
            - secretRef: {name: {{ $root.Values.secrets.existingSecret }}}
          env:
            {{- include "webos.identityEnv" . | nindent 12 }}
            {{- if .principals }}
            - name: WEBOS_AUTH_PRINCIPALS_FILE
              value: /etc/webos/principals/principals.json
            {{- end }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if .port }}
          ports:
            - name: http
              containerPort: {{ .port }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 2
            failureThreshold: 30
          {{- else if .probePort }}
          # no API, only its probes (the task worker: webos_common/tasks/health.py), answered by its
          # event loop: a loop a task blocks, or a queue receiver that ended, fails liveness
          ports:
            - name: probes
              containerPort: {{ .probePort }}
          readinessProbe:
            httpGet: {path: /readyz, port: probes}
            periodSeconds: 10
            timeoutSeconds: 5
          livenessProbe:
            httpGet: {path: /healthz, port: probes}
            periodSeconds: 20
            timeoutSeconds: 5
            failureThreshold: 3
          startupProbe:
            httpGet: {path: /healthz, port: probes}
            periodSeconds: 2
            failureThreshold: 30
          {{- end }}
          resources:
            {{- toYaml $resources | nindent 12 }}
          {{- include "webos.containerSecurity" $root | nindent 10 }}
          volumeMounts:
            {{- include "webos.volumeMounts" . | nindent 12 }}
            {{- if .principals }}
            - {name: principals, mountPath: /etc/webos/principals, readOnly: true}
            {{- end }}
      volumes:
        {{- include "webos.volumes" . | nindent 8 }}
        {{- if .principals }}
        - name: principals
          secret:
            secretName: {{ $root.Values.secrets.principalsSecret }}
            items: [{key: principals.json, path: principals.json}]
        {{- end }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
  {{- with $root.Values.secrets.serviceAccountAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- if .port }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {{ .name }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
{{- end }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $replicas.min }}
  maxReplicas: {{ $replicas.max }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: {{ $root.Values.defaults.cpuTarget }}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ $ns }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
  policyTypes: [Ingress]
  {{- if not .port }}
  ingress:                   # no API: only Prometheus, for /metrics on the probe port
    - from:
        - namespaceSelector:
            matchLabels:
              {{- toYaml $root.Values.monitoring.namespaceLabel | nindent 14 }}
      ports: [{port: {{ .probePort }}, protocol: TCP}]
  {{- else }}
  ingress:
    {{- if .public }}
    - ports: [{port: {{ .port }}, protocol: TCP}]   # the only public entry: from anywhere
    {{- else }}
    - from:
        {{- include "webos.peers" .from | nindent 8 }}
      ports: [{port: {{ .port }}, protocol: TCP}]
    - from:  # Prometheus, from namespaces labelled for monitoring
        - namespaceSelector:
            matchLabels:
              {{- toYaml $root.Values.monitoring.namespaceLabel | nindent 14 }}
      ports: [{port: {{ .port }}, protocol: TCP}]
    {{- end }}
  {{- end }}
{{- end -}}
