import { createTransport, type Transporter } from 'nodemailer';
import type { ChannelSender, OpenedChannel } from './channel-sender.ts';
import { emailOf, type OperationalPayload } from './message.ts';

/** The sender when REPORT_FROM is unset (as for scheduled reports). */
const DEFAULT_FROM = 'formhub@localhost';

/** Mails operational events through the SMTP server of `SMTP_URL` (nodemailer). */
export class EmailChannelSender implements ChannelSender {
  private readonly transport: Transporter | undefined;

  constructor(
    url: string | undefined,
    private readonly from: string = DEFAULT_FROM,
    timeoutMs = 10_000,
  ) {
    this.transport = url
      ? createTransport({
          url,
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
        })
      : undefined;
  }

  async send(channel: OpenedChannel, payload: OperationalPayload): Promise<void> {
    // Channels are refused without SMTP_URL; one made before it was unset fails, logged.
    if (!this.transport) throw new Error('SMTP_URL is not set: e-mail cannot be sent');
    const { subject, text } = emailOf(payload);
    await this.transport.sendMail({ from: this.from, to: channel.target, subject, text });
  }

  async close(): Promise<void> {
    this.transport?.close();
  }
}
