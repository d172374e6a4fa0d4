import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { installedVersion, ruleCatalog, splitControls } from '../../../scripts/compliance/catalog';

describe('rule catalog of the installed cdk-nag packs', () => {
  const catalog = ruleCatalog();

  it('has every pack lib/nag can run, with all their rules', () => {
    expect([...catalog.keys()].sort()).toEqual([
      'AwsSolutions',
      'HIPAA.Security',
      'NIST.800.53.R5',
      'PCI.DSS.321',
    ]);
    for (const pack of catalog.values()) expect(pack.rules.size).toBeGreaterThan(50);
    expect(catalog.get('NIST.800.53.R5')?.framework).toBe('NIST SP 800-53 Rev. 5');
  });

  it('maps every NIST, HIPAA and PCI rule to at least one control, and AwsSolutions to none', () => {
    for (const pack of catalog.values()) {
      for (const rule of pack.rules.values()) {
        expect(rule.id.startsWith(`${pack.pack}-`)).toBe(true);
        if (pack.pack === 'AwsSolutions') expect(rule.controls).toEqual([]);
        else expect(rule.controls.length).toBeGreaterThan(0);
        expect(rule.meaning).not.toMatch(/Control IDs?:/);
        expect(rule.meaning).toMatch(/[.!?)]$/);
        expect(rule.explanation.length).toBeGreaterThan(0);
      }
    }
    expect(catalog.get('NIST.800.53.R5')?.rules.get('NIST.800.53.R5-ALBWAFEnabled')).toMatchObject({
      meaning: 'The ALB is not associated with AWS WAFv2 web ACL.',
      controls: ['AC-4(21)'],
    });
  });

  it('splits the control list, keeping parentheses and dropping repeats', () => {
    expect(splitControls('The thing is off - (Control IDs: AC-4, AC-4(21), SC-7(4)(b), AC-4).')).toEqual({
      meaning: 'The thing is off.',
      controls: ['AC-4', 'AC-4(21)', 'SC-7(4)(b)'],
    });
    expect(splitControls('No controls here.')).toEqual({ meaning: 'No controls here.', controls: [] });
  });

  it('reads installed versions from package.json', () => {
    const pkg = path.join(__dirname, '..', '..', '..', 'node_modules', 'cdk-nag', 'package.json');
    expect(installedVersion('cdk-nag')).toBe(
      (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version,
    );
    expect(installedVersion('cdk-nag')).toMatch(/^\d+\.\d+\.\d+/);
  });
});
