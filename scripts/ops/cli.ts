import { main } from './program';

// The repository runs on Node 20 (package.json engines); the SDK's notice about Node 22
// would only bury the tools' own messages.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Entry of `npm run ops -- <command>`; see `npm run ops -- --help` and docs/runbooks/.
void main(process.argv).then((code) => {
  process.exitCode = code;
});
