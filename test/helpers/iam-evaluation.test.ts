import { evaluate, type Statement } from './iam-evaluation';

describe('the evaluator', () => {
  const allowAll: Statement = { Effect: 'Allow', Action: 'ssm:*', Resource: '*' };
  test('explicit deny wins over allow; NotResource exempts; nothing applies → implicit deny', () => {
    const deny: Statement = { Effect: 'Deny', Action: 'ssm:Get*', NotResource: 'arn:x:own/*' };
    expect(evaluate([allowAll, deny], 'ssm:GetParameter', 'arn:x:other/a')).toBe('explicit-deny');
    expect(evaluate([allowAll, deny], 'SSM:getparameter', 'arn:x:own/a')).toBe('allow');
    expect(evaluate([deny], 'ssm:GetParameter', 'arn:x:own/a')).toBe('implicit-deny');
    expect(evaluate([allowAll], 's3:GetObject', 'arn:x:own/a')).toBe('implicit-deny');
  });
  test('? matches one character, resources are case-sensitive, conditions are not guessed', () => {
    expect(evaluate([{ Effect: 'Allow', Action: 'a:b', Resource: 'arn:?' }], 'a:b', 'arn:1')).toBe('allow');
    expect(evaluate([{ Effect: 'Allow', Action: 'a:b', Resource: 'arn:A' }], 'a:b', 'arn:a')).toBe(
      'implicit-deny',
    );
    expect(() =>
      evaluate([{ Effect: 'Allow', Action: 'a:b', Resource: '*', Condition: {} }], 'a:b', 'x'),
    ).toThrow('cannot evaluate');
  });
});
