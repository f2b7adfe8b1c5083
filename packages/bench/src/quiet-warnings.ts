/**
 * Imported first by the entry points: the AWS SDK prints a Node-version support warning in
 * every process on Node 20; the benchmark report states the Node version instead. The SDK's
 * own switch turns it off (child processes inherit it).
 * @module
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
export {};
