/** Colours and sizes shared by all charts (from the report template and the branding). */
export interface ChartStyle {
  /** Bars, line and points. */
  color: string;
  text: string;
  muted: string;
  grid: string;
  axis: string;
  fontSize: number;
}

/** One category and its value (a day and its submissions, an option and its count). */
export interface Datum {
  label: string;
  value: number;
}
