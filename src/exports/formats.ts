/** The formats an export can be written in. */
export const EXPORT_FORMATS = ['csv', 'xlsx', 'json', 'ndjson', 'pdf'] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Content type and file extension of each format. */
export const FORMAT_INFO: Record<ExportFormat, { contentType: string; extension: string }> = {
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  xlsx: {
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extension: 'xlsx',
  },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
  ndjson: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'ndjson' },
  pdf: { contentType: 'application/pdf', extension: 'pdf' },
};
