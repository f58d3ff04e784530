{{/* Names and labels. */}}

{{- define "release-ledger.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "release-ledger.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "release-ledger.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "release-ledger.labels" -}}
helm.sh/chart: {{ include "release-ledger.chart" . }}
{{ include "release-ledger.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "release-ledger.selectorLabels" -}}
app.kubernetes.io/name: {{ include "release-ledger.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component (api, worker, init): include with (list $ "api"). */}}
{{- define "release-ledger.componentSelectorLabels" -}}
{{ include "release-ledger.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "release-ledger.componentLabels" -}}
{{ include "release-ledger.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "release-ledger.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "release-ledger.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "release-ledger.secretName" -}}
{{- default (include "release-ledger.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "release-ledger.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The LEDGER_* settings of every ledger container: the ConfigMap, the Secret, then the
     given env entries and extraEnv. Include with (dict "root" $ "env" (list ...)). */}}
{{- define "release-ledger.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "release-ledger.fullname" .root }}
  - secretRef:
      name: {{ include "release-ledger.secretName" .root }}
{{- with concat (.env | default list) .root.Values.extraEnv }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A ledger container's security context and writable mounts (the root fs is read-only). */}}
{{- define "release-ledger.containerBasics" -}}
image: {{ include "release-ledger.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: data
    mountPath: /var/lib/ledger
{{- end }}

{{/* The pod-level parts every ledger pod shares. */}}
{{- define "release-ledger.podBasics" -}}
serviceAccountName: {{ include "release-ledger.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- end }}

{{/* Waits until a token exists: off loopback a ledger server refuses to start before. */}}
{{- define "release-ledger.waitForToken" -}}
- name: wait-for-token
  {{- include "release-ledger.containerBasics" . | nindent 2 }}
  command: ["ledger-bootstrap", "wait-token"]
  {{- include "release-ledger.env" (dict "root" .) | nindent 2 }}
  resources:
    {{- toYaml .Values.initJob.resources | nindent 4 }}
{{- end }}

{{/* Spread replicas over nodes (an owner and its standby apart), where the cluster can. */}}
{{- define "release-ledger.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "release-ledger.componentSelectorLabels" . | nindent 8 }}
{{- end }}
