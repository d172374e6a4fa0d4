import { main as synthMain } from '../../../scripts/synth/main';

describe('npm run synth: usage errors stop before the synth', () => {
  function run(argv: string[]): { code: number; err: string } {
    const err: string[] = [];
    const code = synthMain(argv, { out: () => undefined, err: (l) => err.push(l) });
    return { code, err: err.join('\n') };
  }
  test.each([
    [['--cfn-lint', 'sometimes'], "--cfn-lint must be auto, require or off, got 'sometimes'"],
    [['-c', 'env'], "-c must be key=value, got 'env'"],
    [['--colour'], "Unknown option '--colour'"],
  ])('%j', (argv, message) => {
    const { code, err } = run(argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('Usage: npm run synth');
  });
});
