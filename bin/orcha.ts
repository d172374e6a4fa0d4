#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config/load';

const app = new App();
const envName: unknown = app.node.tryGetContext('env');

try {
  buildApp(app, { envName: typeof envName === 'string' ? envName : undefined });
} catch (error) {
  if (error instanceof ConfigError) {
    // One message naming the field and the value; nothing is synthesized.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
