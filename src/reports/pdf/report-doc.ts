import type { ChartCanvas, ChartStyle, DrawOp } from '../charts/index.ts';
import { paint } from '../charts/index.ts';
import type { ReportFonts } from './fonts.ts';
import type { ReportTemplate } from './template.ts';

type Weight = 'regular' | 'bold';

/**
 * A pdfkit document plus the report's fonts, template and page furniture: every page after the
 * cover gets the header, and (in streamed mode) its "Page n" footer as soon as it is added.
 */
export class ReportDoc {
  /** 1-based number of the current page (the cover is page 1). */
  page = 0;
  private weight: Weight = 'regular';
  private size: number;

  constructor(
    readonly doc: PDFKit.PDFDocument,
    readonly template: ReportTemplate,
    readonly fonts: ReportFonts,
    readonly accent: string,
    private readonly header: string,
    /** The footer of page n, or undefined for none (changed before drawing deferred footers). */
    public footer: (page: number) => string | undefined,
  ) {
    this.size = template.fonts.sizes.body;
    doc.on('pageAdded', () => this.onPageAdded());
  }

  get left(): number {
    return this.template.page.margins.left;
  }
  get width(): number {
    return this.doc.page.width - this.left - this.template.page.margins.right;
  }
  get top(): number {
    return this.template.page.margins.top;
  }
  get bottom(): number {
    return this.doc.page.height - this.template.page.margins.bottom;
  }
  /** Height available for content on an empty page. */
  get contentHeight(): number {
    return this.bottom - this.top;
  }
  /** Space left below the cursor on this page. */
  remaining(): number {
    return this.bottom - this.doc.y;
  }

  /** Sets the font weight and size (and remembers them across automatic page breaks). */
  use(weight: Weight, size: number): this {
    this.weight = weight;
    this.size = size;
    this.doc.font(weight === 'bold' ? this.fonts.bold : this.fonts.regular).fontSize(size);
    return this;
  }

  /** Text made safe for the font (Latin-1 replacement with the built-in fallback font). */
  t(text: string): string {
    return this.fonts.prepare(text);
  }

  /** Height `text` takes wrapped to `width` in the given font. */
  measure(text: string, width: number, weight: Weight, size: number): number {
    this.use(weight, size);
    return this.doc.heightOfString(this.t(text), { width });
  }

  addPage(): void {
    this.doc.addPage();
  }

  /**
   * Empties pdfkit's per-font cache of laid-out words. It keeps every distinct word for the
   * life of the document, so a long report of varied text (ids, numbers, random tokens) grew
   * without bound (+195 MB over 20,000 short responses); emptied every so often it stays small.
   */
  trimFontCaches(): void {
    const families = (
      this.doc as unknown as { _fontFamilies?: Record<string, { layoutCache?: object }> }
    )._fontFamilies;
    for (const font of Object.values(families ?? {})) {
      if (font.layoutCache) font.layoutCache = Object.create(null) as object;
    }
  }

  /** Paints chart operations (single-line text in the regular font), keeping the cursor. */
  paint(ops: readonly DrawOp[]): void {
    const { x, y } = this.doc;
    this.use('regular', this.size);
    const canvas: ChartCanvas = this.doc;
    paint(
      canvas,
      ops.map((op) => (op.kind === 'text' ? { ...op, text: this.t(op.text) } : op)),
    );
    this.doc.x = x;
    this.doc.y = y;
  }

  chartStyle(color: string): ChartStyle {
    const c = this.template.colors;
    return {
      color,
      text: c.text,
      muted: c.muted,
      grid: c.grid,
      axis: c.axis,
      fontSize: this.template.fonts.sizes.small,
    };
  }

  /** Writes one line in the page margins without triggering a page break. */
  marginText(text: string, y: number, align: 'left' | 'center' | 'right'): void {
    const margins = this.doc.page.margins;
    this.doc.page.margins = { ...margins, bottom: 0 };
    this.use('regular', this.template.fonts.sizes.small);
    this.doc.fillColor(this.template.colors.muted);
    this.doc.text(this.t(text), this.left, y, { width: this.width, align, lineBreak: false });
    this.doc.page.margins = margins;
  }

  /** Draws the footer on the current page (used at the end when the footer needs the total). */
  drawFooter(page: number): void {
    const text = this.footer(page);
    if (text === undefined) return;
    const { x, y } = this.doc;
    this.marginText(text, this.bottom + this.template.page.margins.bottom / 2 - 4, 'center');
    this.doc.x = x;
    this.doc.y = y;
  }

  private onPageAdded(): void {
    this.page += 1;
    if (this.page === 1) return;
    const { weight, size } = this;
    const fill = this.template.colors.text;
    const headerY = Math.max(8, this.top / 2 - 6);
    this.marginText(this.header, headerY, 'left');
    const ruleY = headerY + this.template.fonts.sizes.small + 5;
    this.doc
      .lineWidth(0.5)
      .moveTo(this.left, ruleY)
      .lineTo(this.left + this.width, ruleY)
      .stroke(this.template.colors.grid);
    this.drawFooter(this.page);
    this.doc.x = this.left;
    this.doc.y = this.top;
    this.use(weight, size);
    this.doc.fillColor(fill);
  }
}
