{{/* The chart name, or nameOverride. */}}
{{- define "innerq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of every object: fullnameOverride, or release-chart (the release name alone when it holds the chart's). */}}
{{- define "innerq.fullname" -}}
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

{{- define "innerq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "innerq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "innerq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "innerq.labels" -}}
helm.sh/chart: {{ include "innerq.chart" . }}
{{ include "innerq.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "innerq.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret with the API key hashes: the chart's, or an existing one; empty when there are no keys. */}}
{{- define "innerq.apiKeysSecret" -}}
{{- if .Values.apiKeys.existingSecret }}
{{- .Values.apiKeys.existingSecret }}
{{- else if .Values.apiKeys.hashes }}
{{- printf "%s-api-keys" (include "innerq.fullname" .) }}
{{- end }}
{{- end }}

{{/* The backend the service runs: vulkan on GPU pods. */}}
{{- define "innerq.backend" -}}
{{- if .Values.gpu.enabled }}vulkan{{ else }}{{ .Values.innerq.backend }}{{ end }}
{{- end }}

{{/* innerq.model: the downloaded file, or model.file; empty for the first .gguf in /models. */}}
{{- define "innerq.model" -}}
{{- if eq .Values.model.source "download" }}
{{- printf "/models/%s" .Values.model.download.fileName }}
{{- else }}
{{- .Values.model.file }}
{{- end }}
{{- end }}

{{/* The volume holding the model, mounted read-only at /models. */}}
{{- define "innerq.modelVolume" -}}
- name: models
{{- if eq .Values.model.source "claim" }}
  persistentVolumeClaim:
    claimName: {{ .Values.model.claim.name }}
    readOnly: true
{{- else if eq .Values.model.download.volume "persistentVolumeClaim" }}
  persistentVolumeClaim:
    claimName: {{ include "innerq.fullname" . }}-models
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.model.download.size }}
{{- end }}
{{- end }}
