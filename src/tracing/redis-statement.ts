/**
 * What a Redis span records of its command: the name and the key, never the values. The
 * instrumentation's default writes every argument of EVAL/EVALSHA and others, which for
 * BullMQ is the whole job's data.
 */
export function redisStatement(command: string, args: unknown[]): string {
  const key = args[0];
  if (/^eval/i.test(command) || typeof key !== 'string')
    return `${command} [${args.length} arguments]`;
  return args.length > 1
    ? `${command} ${key} [${args.length - 1} other arguments]`
    : `${command} ${key}`;
}
