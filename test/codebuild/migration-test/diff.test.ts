import { compare, judge } from '../../../codebuild/migration-test/diff';
import { BEFORE } from '../../fixtures/migration-test/states';

test('pre-existing invalid indexes warn, new ones fail; unused allowances are reported', () => {
  const invalid = {
    schema: 'public',
    table: 'customers',
    name: 'old_idx',
    valid: false,
    definition: 'CREATE INDEX old_idx …',
  };
  const before = { ...BEFORE, indexes: [...BEFORE.indexes, invalid] };
  const judgement = judge(compare(before, before, ['ghost']), 0);
  expect(judgement.verdict).toBe('pass');
  expect(judgement.warnings).toEqual([
    'indexes already INVALID before the migrations: old_idx',
    'allow-list entries not needed by this run: ghost',
  ]);
  const fresh = { ...invalid, name: 'new_idx' };
  expect(judge(compare(BEFORE, { ...BEFORE, indexes: [...BEFORE.indexes, fresh] }, []), 0).verdict).toBe(
    'fail',
  );
});
