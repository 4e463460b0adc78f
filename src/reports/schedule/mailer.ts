/** One report mail: the rendered file attached, a short summary as the text. */
export interface ReportMail {
  to: string[];
  subject: string;
  text: string;
  attachment: { filename: string; contentType: string; content: Buffer };
}

/** Sends report mails; `SmtpReportMailer` is the implementation over nodemailer. */
export interface ReportMailer {
  send(mail: ReportMail): Promise<void>;
  close(): void;
}

/**
 * Whether a send failure may pass on a later try: connection and timeout errors (no SMTP
 * reply code) and 4xx replies are transient; a 5xx reply is permanent.
 */
export function isTransientMailError(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code !== 'number' || code < 500;
}
