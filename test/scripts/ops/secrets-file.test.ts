import { parseSecretsFile } from '../../../scripts/ops/secrets-file';

describe('parseSecretsFile', () => {
  test('reads dotenv syntax: comments, export, quotes and CRLF', () => {
    const source = [
      '# comment',
      'export DATABASE_URL="postgres://u:p#w@h/db"   # trailing comment',
      "SINGLE='single # not a comment'",
      'PLAIN = hello world',
      'ESCAPED="tab\\tstays"',
      'COLON: yaml-style',
      '',
    ].join('\r\n');
    expect(parseSecretsFile(source)).toEqual([
      { key: 'DATABASE_URL', value: 'postgres://u:p#w@h/db', line: 2 },
      { key: 'SINGLE', value: 'single # not a comment', line: 3 },
      { key: 'PLAIN', value: 'hello world', line: 4 },
      { key: 'ESCAPED', value: 'tab\\tstays', line: 5 },
      { key: 'COLON', value: 'yaml-style', line: 6 },
    ]);
  });

  test('refuses multi-line values, which the instances would skip', () => {
    expect(() => parseSecretsFile('A="first\nsecond"\nB="x\\ny"\n')).toThrow(
      /line 1: A: the value spans several lines.*\n.*line 3: B: the value spans several lines/,
    );
  });

  test('an unquoted value followed by " #" ends at the comment', () => {
    expect(parseSecretsFile('A=abc # note\n')).toEqual([{ key: 'A', value: 'abc', line: 1 }]);
  });

  test('problems name lines and keys but never values', () => {
    const secret = 'S3CR3T-value-that-must-not-show';
    let message = '';
    try {
      parseSecretsFile(`GOOD=${secret}\n${secret}\nlower=${secret}\nHASH=${secret}#x\nEMPTY=\n`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n').slice(1)).toEqual([
      '  line 2: not a KEY=value line (content not shown)',
      '  line 3: key "lower" is not valid: keys must match ^[A-Z][A-Z0-9_]*$',
      '  line 4: HASH: the unquoted value contains "#", which dotenv reads as the start of a comment; quote the value',
      '  line 5: EMPTY has an empty value; refusing to store an empty parameter',
    ]);
    expect(message).not.toContain(secret);
  });
});
