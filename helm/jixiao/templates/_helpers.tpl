{{/*
Shared pieces of the jixiao chart. Every container (web, worker, migration, cron jobs) is built
from "jixiao.container" and every pod from "jixiao.podSpec", so the environment, security
context and scratch volumes are the same everywhere.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "jixiao.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (a DNS label). When the release name already
contains the chart name it is used as is.
*/}}
{{- define "jixiao.fullname" -}}
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

{{/*
Name of one component's object: "<fullname>-<component>", with the fullname shortened so the
whole stays within max characters (default 63: Job names become a label value; CronJobs pass
52 because their Jobs append 11 characters). Called with (dict "ctx" $ "component" "web").
*/}}
{{- define "jixiao.componentName" -}}
{{- $fullname := include "jixiao.fullname" .ctx }}
{{- $room := sub (.max | default 63) (add1 (len .component)) }}
{{- printf "%s-%s" ($fullname | trunc (int $room) | trimSuffix "-") .component }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "jixiao.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. Templates add app.kubernetes.io/component themselves. */}}
{{- define "jixiao.labels" -}}
helm.sh/chart: {{ include "jixiao.chart" . }}
{{ include "jixiao.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jixiao
{{- end }}

{{/* Selector labels (immutable on Deployments: never add anything that changes). */}}
{{- define "jixiao.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jixiao.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Pod template labels: the object labels plus podLabels. */}}
{{- define "jixiao.podLabels" -}}
{{ include "jixiao.labels" . }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Image reference: repository@digest when a digest is given, else repository:tag. */}}
{{- define "jixiao.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/*
Data of the ConfigMap: the plain environment. Rendered by configmap.yaml and, for the
migration hook, by job-migrate.yaml.
*/}}
{{- define "jixiao.configData" -}}
{{- if not (hasPrefix "/" (toString .Values.config.instanceDir)) }}
{{- fail "config.instanceDir must be an absolute path (an emptyDir is mounted there)" }}
{{- end }}
{{- $dbRole := .Values.config.dbRole | default "" | toString }}
{{- if not (regexMatch "^([a-z_][a-z0-9_]{0,62})?$" $dbRole) }}
{{- fail (printf "config.dbRole (JIXIAO_DB_ROLE) %q must be a PostgreSQL role name: lower-case letters, digits and '_', or empty" $dbRole) }}
{{- end }}
{{- $logFormat := .Values.config.logFormat | default "text" | toString }}
{{- if not (has $logFormat (list "text" "json")) }}
{{- fail (printf "config.logFormat (JIXIAO_LOG_FORMAT) must be text or json, not %q" $logFormat) }}
{{- end -}}
S3_ENDPOINT: {{ required "objectStore.endpoint (S3_ENDPOINT) is required" .Values.objectStore.endpoint | quote }}
S3_BUCKET: {{ .Values.objectStore.bucket | default "jixiao" | quote }}
S3_REGION: {{ .Values.objectStore.region | default "us-east-1" | quote }}
{{- with .Values.objectStore.publicEndpoint }}
S3_PUBLIC_ENDPOINT: {{ . | quote }}
{{- end }}
{{- if .Values.config.behindTLS }}
JIXIAO_BEHIND_TLS: "1"
{{- end }}
JIXIAO_LOG_LEVEL: {{ .Values.config.logLevel | default "INFO" | quote }}
JIXIAO_LOG_FORMAT: {{ $logFormat | quote }}
JIXIAO_DB_ROLE: {{ $dbRole | quote }}
JIXIAO_QUEUE: {{ .Values.config.queue | default "jixiao" | quote }}
JIXIAO_INSTANCE: {{ .Values.config.instanceDir | quote }}
JIXIAO_TIMEZONE: {{ .Values.config.timezone | default "Asia/Shanghai" | quote }}
JIXIAO_MAX_UPLOAD_MIB: {{ .Values.config.maxUploadMib | default 1024 | toString | quote }}
JIXIAO_MAX_JSON_MIB: {{ .Values.config.maxJsonMib | default 2 | toString | quote }}
JIXIAO_SESSION_HOURS: {{ .Values.config.sessionHours | default 12 | toString | quote }}
JIXIAO_MAIL_FROM: {{ .Values.config.mailFrom | default "jixiao@localhost" | quote }}
JIXIAO_BASE_URL: {{ .Values.config.baseUrl | default "" | quote }}
{{- with .Values.config.auditAnchorPublicKey }}
JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Data of the chart-created Secret (base64). Rendered by secret.yaml and, for the migration
hook, by job-migrate.yaml; never when secrets.existingSecret is set.
*/}}
{{- define "jixiao.secretData" -}}
{{- $msg := "is required unless secrets.existingSecret names a Secret" -}}
DATABASE_URL: {{ required (printf "secrets.databaseUrl (DATABASE_URL) %s" $msg) .Values.secrets.databaseUrl | b64enc | quote }}
{{- with .Values.secrets.migrationDatabaseUrl }}
MIGRATION_DATABASE_URL: {{ . | b64enc | quote }}
{{- end }}
REDIS_URL: {{ required (printf "secrets.redisUrl (REDIS_URL) %s" $msg) .Values.secrets.redisUrl | b64enc | quote }}
S3_ACCESS_KEY: {{ required (printf "secrets.s3AccessKey (S3_ACCESS_KEY) %s" $msg) .Values.secrets.s3AccessKey | b64enc | quote }}
S3_SECRET_KEY: {{ required (printf "secrets.s3SecretKey (S3_SECRET_KEY) %s" $msg) .Values.secrets.s3SecretKey | b64enc | quote }}
SECRET_KEY: {{ required (printf "secrets.secretKey (SECRET_KEY) %s" $msg) .Values.secrets.secretKey | b64enc | quote }}
{{- with .Values.secrets.smtpUrl }}
JIXIAO_SMTP_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.auditAnchorKey }}
JIXIAO_AUDIT_ANCHOR_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
The shared environment block of every container: envFrom the ConfigMap and the Secret, then
extraEnv. Called with (dict "ctx" $ "hook" false) — the migration hook passes true to load
its own copies (<fullname>-migrate), which exist before the release's ConfigMap and Secret do.
Every other container gets MIGRATION_DATABASE_URL="" (env wins over envFrom): the table owner's
connection stays out of the processes that serve requests and run jobs, which act as the
non-owner role row-level security binds (a Secret named by existingSecret may hold the key).
Likewise JIXIAO_AUDIT_ANCHOR_KEY="" everywhere but in the `jixiao audit …` CronJobs (`"signs"
true`): the key that signs the anchors never reaches a pod that serves requests.
*/}}
{{- define "jixiao.env" -}}
{{- $ctx := .ctx }}
{{- $name := include "jixiao.fullname" $ctx }}
{{- if .hook }}
{{- $name = include "jixiao.componentName" (dict "ctx" $ctx "component" "migrate") }}
{{- end -}}
envFrom:
  - configMapRef:
      name: {{ $name }}
  - secretRef:
      name: {{ $ctx.Values.secrets.existingSecret | default $name }}
env:
  {{- if not .hook }}
  - name: MIGRATION_DATABASE_URL
    value: ""
  {{- end }}
  {{- if not .signs }}
  - name: JIXIAO_AUDIT_ANCHOR_KEY
    value: ""
  {{- end }}
  {{- with $ctx.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Container fields shared by every container: image, security context, environment and the
writable scratch mounts. Called with (dict "ctx" $ "hook" false); see "jixiao.env".
*/}}
{{- define "jixiao.container" -}}
{{- $ctx := .ctx -}}
image: {{ include "jixiao.image" $ctx | quote }}
imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml $ctx.Values.securityContext | nindent 2 }}
{{ include "jixiao.env" . }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: instance
    mountPath: {{ $ctx.Values.config.instanceDir }}
  {{- with $ctx.Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Pod spec fields shared by every pod: service account, pull secrets, security context,
scheduling and the scratch volumes (the root filesystem is read-only).
*/}}
{{- define "jixiao.podSpec" -}}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.scratch.tmpSizeLimit | default "2Gi" }}
  - name: instance
    emptyDir:
      sizeLimit: {{ .Values.scratch.instanceSizeLimit | default "1Gi" }}
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Pod annotations of the long-running Deployments: checksums of the configuration, so that
changed values roll the pods, plus the given annotations. Called with
(dict "ctx" $ "annotations" .Values.web.podAnnotations). A Secret named by existingSecret is
not tracked: restart the Deployments after changing it.
*/}}
{{- define "jixiao.podAnnotations" -}}
checksum/config: {{ include "jixiao.configData" .ctx | sha256sum }}
{{- if not .ctx.Values.secrets.existingSecret }}
checksum/secret: {{ include "jixiao.secretData" .ctx | sha256sum }}
{{- end }}
{{- with .annotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Headers for the web probes. Behind TLS the app redirects plain http to https; the kubelet
probes over plain http, so it announces the request as forwarded https, like the ingress does.
*/}}
{{- define "jixiao.probeHeaders" -}}
{{- if .Values.config.behindTLS }}
httpHeaders:
  - name: X-Forwarded-Proto
    value: https
{{- end }}
{{- end }}
