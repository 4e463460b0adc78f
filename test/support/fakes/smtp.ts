import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A mail as the fake received it: the envelope's recipients and the raw message. */
export interface FakeMail {
  to: string[];
  raw: string;
}

export interface FakeSmtp {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  mails: FakeMail[];
  /** Resolves with the first mail that matches (or rejects after `timeoutMs`). */
  waitFor(match: (mail: FakeMail) => boolean, timeoutMs?: number): Promise<FakeMail>;
  close(): Promise<void>;
}

/** A local SMTP server on 127.0.0.1 that keeps every mail it receives (smtp-server). */
export async function startFakeSmtp(): Promise<FakeSmtp> {
  const mails: FakeMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(match, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = mails.find(match);
        if (mail) return mail;
        if (Date.now() > deadline) throw new Error('no matching mail arrived in time');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A mail with folded header lines joined and quoted-printable undone (enough for asserts). */
export function mailText(raw: string): string {
  return raw
    .replace(/\r\n[ \t]+/g, ' ')
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
