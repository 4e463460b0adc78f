import { createTransport, type Transporter } from 'nodemailer';
import type { ReportMail, ReportMailer } from './mailer.ts';

/** The sender when REPORT_FROM is unset. */
export const DEFAULT_REPORT_FROM = 'formhub@localhost';

/** Mails reports through the SMTP server of `SMTP_URL` (e.g. `smtps://user:pass@host:465`). */
export class SmtpReportMailer implements ReportMailer {
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string = DEFAULT_REPORT_FROM,
  ) {
    this.transport = createTransport(url);
  }

  async send(mail: ReportMail): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      attachments: [mail.attachment],
    });
  }

  close(): void {
    this.transport.close();
  }
}
