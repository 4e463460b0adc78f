/**
 * One report mail: the rendered file attached, a short summary as the text. The file is on
 * disk (`path`, readable by the hub's user only) and read from there as the mail is sent,
 * so a report of any size is never held in memory.
 */
export interface ReportMail {
  to: string[];
  subject: string;
  text: string;
  attachment: { filename: string; contentType: string; path: string };
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
