{{/* The prefix of every object's name: the release name, with -spiderpool unless it has it. */}}
{{- define "spiderpool.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "spiderpool.controller" -}}{{ include "spiderpool.fullname" . }}-controller{{- end -}}
{{- define "spiderpool.agent" -}}{{ include "spiderpool.fullname" . }}-agent{{- end -}}
{{- define "spiderpool.tlsSecret" -}}{{ include "spiderpool.controller" . }}-webhook-tls{{- end -}}
{{- define "spiderpool.mutating" -}}{{ include "spiderpool.fullname" . }}-mutating{{- end -}}
{{- define "spiderpool.validating" -}}{{ include "spiderpool.fullname" . }}-validating{{- end -}}
{{/* The identities the programs run as; the controller checks callers against them. */}}
{{- define "spiderpool.controllerUser" -}}system:serviceaccount:{{ .Release.Namespace }}:{{ include "spiderpool.controller" . }}{{- end -}}
{{- define "spiderpool.agentUser" -}}system:serviceaccount:{{ .Release.Namespace }}:{{ include "spiderpool.agent" . }}{{- end -}}
{{/* Fixed by the programs: the ConfigMap they read and the Lease the controllers elect through. */}}
{{- define "spiderpool.configMap" -}}spiderpool-conf{{- end -}}
{{- define "spiderpool.lease" -}}spiderpool-controller{{- end -}}

{{- define "spiderpool.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "spiderpool.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: spiderpool
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (controller or agent): pass (list $ "controller"). */}}
{{- define "spiderpool.selector" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "spiderpool.componentLabels" -}}
{{ include "spiderpool.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}
