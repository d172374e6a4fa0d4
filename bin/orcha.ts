#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { runApp } from '../lib/entry';

// Everything (context check, configuration, cdk-nag, judging the validation report) is in
// lib/entry.ts, where the tests call it.
process.exitCode = runApp(new App({ autoSynth: false }));
