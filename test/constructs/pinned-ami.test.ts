/**
 * The pinned Amazon Linux release: resolved by name at deploy time, never from AWS's moving
 * `latest` parameter, with only the permission the lookup needs.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AMAZON_IMAGE_OWNER, PinnedAmi } from '../../lib/constructs/pinned-ami';

const NAME = 'al2023-ami-2023.6.20241111.0-kernel-6.1-arm64';
let template: Template;
let ami: PinnedAmi;

beforeAll(() => {
  const stack = new Stack(new App(), 'S', { env: { account: '700558745280', region: 'eu-central-1' } });
  ami = new PinnedAmi(stack, 'Ami', {
    imageName: NAME,
    logRetentionDays: 30,
    logEncryptionKey: new kms.Key(stack, 'LogKey'),
  });
  template = Template.fromStack(stack);
});

function call(): Record<string, unknown> {
  const [resource] = Object.values(template.findResources('Custom::PinnedAmi')) as {
    Properties: { Create: unknown; Update: unknown };
  }[];
  expect(resource!.Properties.Create).toEqual(resource!.Properties.Update);
  const json = resource!.Properties.Create;
  return JSON.parse(typeof json === 'string' ? json : JSON.stringify(json)) as Record<string, unknown>;
}

it('looks the release up by exact name among Amazon’s arm64 images, deprecated ones included', () => {
  expect(call()).toMatchObject({
    service: 'EC2',
    action: 'describeImages',
    parameters: {
      Owners: [AMAZON_IMAGE_OWNER],
      IncludeDeprecated: true,
      Filters: [
        { Name: 'name', Values: [NAME] },
        { Name: 'architecture', Values: ['arm64'] },
        { Name: 'state', Values: ['available'] },
      ],
    },
    // The name is the physical id: the lookup runs again only when the pin moves.
    physicalResourceId: { id: NAME },
    outputPaths: ['Images.0.ImageId'],
  });
});

it('exposes the image id as the lookup’s attribute, and reads no SSM `latest` parameter', () => {
  const params = Object.values((template.toJSON().Parameters ?? {}) as Record<string, { Type: string }>);
  expect(params.filter((p) => p.Type.includes('AWS::EC2::Image::Id'))).toEqual([]);
  expect(Stack.of(ami).resolve(ami.imageId)).toEqual({
    'Fn::GetAtt': [expect.stringMatching(/^AmiLookup/), 'Images.0.ImageId'],
  });
});

it('grants ec2:DescribeImages and nothing else', () => {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
  }[];
  const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  expect(statements).toEqual([expect.objectContaining({ Action: 'ec2:DescribeImages', Resource: '*' })]);
});
