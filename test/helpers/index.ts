// The helpers most template tests need; the others are imported from their own module
// (`../helpers/ops`, `../helpers/iam-evaluation`, …) so that a file loads only what it uses.
export * from './app';
export * from './template';
