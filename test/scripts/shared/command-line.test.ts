import { parseCommandLine, type CliIo } from '../../../scripts/shared/command-line';

const USAGE = 'Usage: tool [--name x] [--dry-run]';
const OPTIONS = {
  name: { type: 'string', default: 'orcha' },
  'dry-run': { type: 'boolean', default: false },
} as const;

function recorder(): CliIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (t) => void out_.push(t), err: (t) => void err_.push(t) };
}

test('the values, with defaults', () => {
  const io = recorder();
  expect(parseCommandLine(['--dry-run'], OPTIONS, USAGE, io)).toEqual({
    values: { name: 'orcha', 'dry-run': true, help: false },
  });
  expect(parseCommandLine(['--name', 'x'], OPTIONS, USAGE, io)).toMatchObject({ values: { name: 'x' } });
  expect(io.out_.concat(io.err_)).toEqual([]);
});

test('--help (and its short form where the tool has one) prints the usage: exit 0', () => {
  const io = recorder();
  expect(parseCommandLine(['--help'], OPTIONS, USAGE, io)).toEqual({ exitCode: 0 });
  expect(parseCommandLine(['-h'], OPTIONS, USAGE, io, 'h')).toEqual({ exitCode: 0 });
  expect(io.out_).toEqual([USAGE, USAGE]);
  expect(io.err_).toEqual([]);
});

test.each([
  [['--nmae', 'x'], "Unknown option '--nmae'"],
  [['--name'], "Option '--name <value>' argument missing"],
  [['stray'], "Unexpected argument 'stray'"],
  [['-h'], "Unknown option '-h'"],
])('%j: the reason and the usage on stderr, exit 2', (argv, reason) => {
  const io = recorder();
  expect(parseCommandLine(argv, OPTIONS, USAGE, io)).toEqual({ exitCode: 2 });
  expect(io.out_).toEqual([]);
  expect(io.err_).toHaveLength(1);
  expect(io.err_[0]).toContain(reason);
  expect(io.err_[0]).toMatch(new RegExp(`\\n\\n${USAGE.replace(/[[\]]/g, '\\$&')}$`));
});
