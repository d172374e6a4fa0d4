import { Redactor } from '../../lib/util/redact';

describe('Redactor', () => {
  test('removes values as is, JSON-escaped, URL-encoded and line by line', () => {
    const r = new Redactor();
    const value = 'a "b"\\c\nsecond line';
    r.add(value);
    const text = `raw ${value} json ${JSON.stringify(value)} url ${encodeURIComponent(value)} line second line`;
    const redacted = r.redact(text);
    expect(redacted).not.toContain('second line');
    expect(redacted).not.toContain('"b"');
    expect(redacted).not.toContain('%22b%22');
    expect(redacted).toContain('[REDACTED]');
  });

  test('minLength leaves short values alone', () => {
    const r = new Redactor({ minLength: 4 });
    r.addAll(['1', 'longer-secret']);
    expect(r.redact('1 created, longer-secret')).toBe('1 created, [REDACTED]');
    const all = new Redactor({ minLength: 1 });
    all.add('1');
    expect(all.redact('1 created')).toBe('[REDACTED] created');
  });

  test('short values are redacted as whole tokens, never inside words of prose', () => {
    // The values of WORKERS=2 and DEBUG=false, and one-letter values.
    const r = new Redactor({ minLength: 1 });
    r.addAll(['2', 'false', 'e', 'longer-secret-value']);
    expect(r.redact('Cannot determine the region (tried 2x): set AWS_REGION')).toBe(
      'Cannot determine the region (tried 2x): set AWS_REGION',
    );
    expect(r.redact("Value 'false' at 'value' failed; 2 errors")).toBe(
      "Value '[REDACTED]' at 'value' failed; [REDACTED] errors",
    );
    expect(r.redact('prefix-longer-secret-value-suffix')).toBe('prefix-[REDACTED]-suffix');
  });
});

describe('Redactor options and describe()', () => {
  test('a marker of its own, and values below minLength are left alone', () => {
    const r = new Redactor({ minLength: 4, marker: '***' });
    r.addAll(['abc', 's3cr3t-p@ss']);
    expect(r.redact('abc: password s3cr3t-p@ss, url s3cr3t-p%40ss')).toBe('abc: password ***, url ***');
  });

  test('describe() prints an error as `Name: message` (no name for a plain Error), redacted', () => {
    const r = new Redactor();
    r.add('hunter2-hunter2');
    const named = new Error('login with hunter2-hunter2 failed');
    named.name = 'AccessDenied';
    expect(r.describe(named)).toBe('AccessDenied: login with [REDACTED] failed');
    expect(r.describe(new Error('plain hunter2-hunter2'))).toBe('plain [REDACTED]');
    expect(r.describe('text hunter2-hunter2')).toBe('text [REDACTED]');
  });
});
