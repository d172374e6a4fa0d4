import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ARCHITECTURE_FILE,
  architectureMarkdown,
  architectureOf,
  synthesize,
} from '../../../scripts/diagram/main';
import type { EnvironmentGraph } from '../../../scripts/diagram/graph';

/**
 * docs/architecture.md is generated from the synthesized app: one synth here, the same code path
 * as `npm run diagram`. If this fails after a change to lib/, run `npm run diagram` and commit.
 */
let outdir: string;
let assembly: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'diagram-'));
  assembly = synthesize(outdir);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** `from --label--> to` over node labels, for readable assertions. */
function connections(g: EnvironmentGraph): string[] {
  const label = new Map(g.nodes.map((n) => [n.id, n.label]));
  return g.edges.map((e) => `${label.get(e.from)} --${e.label}--> ${label.get(e.to)}`);
}

describe('docs/architecture.md', () => {
  it('is what npm run diagram generates from the code today', () => {
    const expected = architectureMarkdown(assembly);
    const committed = readFileSync(ARCHITECTURE_FILE, 'utf8');
    if (committed !== expected) {
      throw new Error(
        'docs/architecture.md is out of date with the code: run `npm run diagram` and commit it',
      );
    }
    expect(committed).toContain('```mermaid');
  });

  it('is deterministic', () => {
    expect(architectureMarkdown(assembly)).toBe(architectureMarkdown(assembly));
  });
});

describe('what the diagrams are derived from', () => {
  it('the infrastructure pipeline: stages and actions in run order', () => {
    const pipeline = architectureOf(assembly).infrastructurePipeline;
    expect(pipeline.stages.map((s) => s.name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Staging',
      'Prod',
    ]);
    const prod = pipeline.stages[5].steps.map((step) => step.map((a) => a.name));
    // The migration test's verdict and the review side by side, then the one approval.
    expect(prod.slice(0, 3)).toEqual([
      ['Prod-MigrationTest', 'Prod-Review'],
      ['Prod-Approve'],
      ['v1-orcha-foundation.Prepare'],
    ]);
    expect(prod[prod.length - 1]).toEqual(['Prod-SmokeTest', 'Prod-TerminationProtection']);
  });

  it('production: ALB → ASG → RDS, queues → workers, the migration test network path', () => {
    const doc = architectureOf(assembly);
    expect(doc.environment.environment).toBe('Prod');
    const c = connections(doc.environment);
    const asg = 'Auto Scaling group v1-orcha-asg (EC2 t4g.medium, 1-2)';
    const db = 'RDS postgres v1-orcha-db (db.t4g.medium)';
    expect(c).toEqual(
      expect.arrayContaining([
        'Internet --tcp 443, tcp 80--> ALB v1-orcha-alb',
        `ALB v1-orcha-alb --HTTPS 443 → HTTP 8888, tcp 8888--> ${asg}`,
        `${asg} --tcp 5432--> ${db}`,
        `SQS v1-orcha-global-ingest --sqs read--> ${asg}`,
        `SQS v1-orcha-global-email-acquire --sqs read--> ${asg}`,
        'SQS v1-orcha-global-ingest --after 3 receives--> SQS v1-orcha-global-ingest-dlq',
        `Secret /v1-orcha/db-credentials --secretsmanager read--> ${asg}`,
        `ECR v1-orcha --ecr read--> ${asg}`,
        `CodeDeploy v1-orcha-production --deploys to--> ${asg}`,
        `CodeBuild v1-orcha-migration-test --tcp 5432--> ${db}`,
        'CodeBuild v1-orcha-migration-test --0.0.0.0/0 route, all traffic--> EC2 NatInstance (t4g.nano)',
        'EC2 NatInstance (t4g.nano) --internet gateway--> Internet',
        'DNS app.prod.getorcha.com (A) --alias--> ALB v1-orcha-alb',
      ]),
    );
    expect(c).toContainEqual(
      expect.stringMatching(/^\d+ CloudWatch alarms --alarm actions--> SNS v1-orcha-alerts$/),
    );
    // The database has no route out, and nothing but the ALB is reachable from the internet.
    expect(c.filter((e) => e.startsWith(`${db} `))).toEqual([]);
    expect(c.filter((e) => e.startsWith('Internet '))).toEqual([
      'Internet --tcp 443, tcp 80--> ALB v1-orcha-alb',
    ]);
    expect(doc.environmentPipelines.map((p) => p.name)).toEqual(['v1-orcha-deploy']);
  });
});
