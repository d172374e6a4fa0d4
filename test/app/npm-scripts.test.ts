import { readFileSync } from 'node:fs';
import { projectPath, readProjectJson } from '../../lib/config/project';

/** The npm scripts named in the first column of the README's command table. */
function scriptsInReadmeTable(readme: string): Set<string> {
  const lines = readme.split('\n');
  const intro = lines.findIndex((l) => l.startsWith('Every npm script'));
  if (intro < 0) throw new Error('README.md: no "Every npm script" table');
  const rows: string[] = [];
  for (const line of lines.slice(intro + 1)) {
    if (line.startsWith('|')) rows.push(line);
    else if (rows.length > 0) break;
  }
  const named = new Set<string>();
  for (const row of rows) {
    const command = row.split('|')[1] ?? '';
    for (const m of command.matchAll(/`npm (?:run ([\w:-]+)|(test))\b/g)) named.add(m[1] ?? m[2]!);
  }
  return named;
}

describe('the README lists every npm script', () => {
  const scripts = Object.keys(readProjectJson<{ scripts: Record<string, string> }>('package.json').scripts);
  const listed = scriptsInReadmeTable(readFileSync(projectPath('README.md'), 'utf8'));

  test('the CDK scripts a user expects exist', () => {
    expect(scripts).toEqual(
      expect.arrayContaining(['synth', 'diff', 'deploy:pipeline', 'deploy:dev', 'destroy:dev']),
    );
  });

  test.each(scripts)('%s', (script) => {
    expect(listed).toContain(script);
  });

  test('the table names no script that does not exist', () => {
    expect([...listed].filter((s) => !scripts.includes(s))).toEqual([]);
  });

  test('the check sees a missing row', () => {
    const readme =
      '# x\n\nEvery npm script:\n\n| command | what |\n| --- | --- |\n| `npm run ci` | ci |\n| `npm test` | t |\n\nMore text `npm run lint`\n';
    expect([...scriptsInReadmeTable(readme)].sort()).toEqual(['ci', 'test']);
  });
});
