import { App, Stage, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledge, listAcknowledgements } from '../../lib/nag/acknowledge';
import { nagFindings } from '../../lib/nag/findings';
import { BUCKET_REASON, GOOD_REASON, S3_FULL, stageWithData } from '../helpers/nag';

describe('acknowledge()', () => {
  it('records the acknowledgement in construct metadata and in the registry', () => {
    const app = new App();
    const { role, stack } = stageWithData(app);
    acknowledge(role, S3_FULL, GOOD_REASON);
    expect(listAcknowledgements(app)).toEqual([
      { id: S3_FULL, reason: GOOD_REASON, path: 'Dev/Data/Role', stackPath: 'Dev/Data' },
    ]);
    expect(listAcknowledgements(stack)).toHaveLength(1);
    const meta = role.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(meta.map((m) => m.data)).toEqual([{ [`Annotation::${S3_FULL}`]: GOOD_REASON }]);
    expect(listAcknowledgements(new App())).toEqual([]);
  });

  it('rejects bad input before recording anything', () => {
    const app = new App();
    const { role } = stageWithData(app);
    expect(() => acknowledge(role, 'AwsSolutions-IAM5', GOOD_REASON)).toThrow(/must name the wildcard/);
    expect(() => acknowledge(role, S3_FULL, 'acceptable')).toThrow(/too short/);
    expect(listAcknowledgements(app)).toEqual([]);
    expect(role.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toBe(
      false,
    );
  });

  it('refuses a Stack as scope (it would cover every resource of the stack), and records nothing', () => {
    const app = new App();
    const { stack, bucket } = stageWithData(app);
    expect(() => acknowledge(stack, 'AwsSolutions-S10', GOOD_REASON)).toThrow(
      /on the stack Dev\/Data would cover every resource in it/,
    );
    expect(listAcknowledgements(app)).toEqual([]);
    expect(stack.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toBe(
      false,
    );
    // The finding stays open.
    expect(nagFindings(stack)).toContain('AwsSolutions-S10 @ Dev/Data/Bucket/Resource');
    // The resource itself is the place.
    acknowledge(bucket, 'AwsSolutions-S10', BUCKET_REASON);
    expect(nagFindings(stack)).not.toContain('AwsSolutions-S10 @ Dev/Data/Bucket/Resource');
  });

  it('refuses App- and Stage-wide acknowledgements, a construct outside a stack, and duplicates', () => {
    const app = new App();
    const { stage, role } = stageWithData(app);
    expect(() => acknowledge(app, 'AwsSolutions-S1', GOOD_REASON)).toThrow(/inside a Stack, not on the App/);
    expect(() => acknowledge(stage, 'AwsSolutions-S1', GOOD_REASON)).toThrow(/inside a Stack, not on Dev/);
    const loose = new Stage(app, 'Loose');
    expect(() => acknowledge(loose, 'AwsSolutions-S1', GOOD_REASON)).toThrow(/inside a Stack/);
    acknowledge(role, S3_FULL, GOOD_REASON);
    expect(() => acknowledge(role, S3_FULL, GOOD_REASON)).toThrow(/already acknowledged/);
  });

  it('writes the acknowledgement into the template Metadata of a Stage stack', () => {
    const app = new App();
    const { stack, role } = stageWithData(app);
    acknowledge(role, S3_FULL, GOOD_REASON);
    const policy = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const metadata = Object.values(policy).map((r) => (r as { Metadata: Record<string, unknown> }).Metadata);
    expect(metadata).toEqual([
      expect.objectContaining({ cdk_nag: { rules_to_suppress: [{ id: S3_FULL, reason: GOOD_REASON }] } }),
    ]);
  });

  it('an acknowledgement covers its construct and nothing beside it', () => {
    const app = new App();
    const { stack, bucket } = stageWithData(app);
    const other = new s3.Bucket(stack, 'Other');
    acknowledge(bucket, 'AwsSolutions-S10', BUCKET_REASON);
    expect(nagFindings(stack)).not.toContain('AwsSolutions-S10 @ Dev/Data/Bucket/Resource');
    expect(nagFindings(stack)).toContain(`AwsSolutions-S10 @ ${other.node.path}/Resource`);
  });
});
