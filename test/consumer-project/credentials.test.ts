/**
 * "Never hand the AWS SDK a frozen object": the SDK tags the credential object it is given
 * (`$source.CREDENTIALS_CODE`) when it first resolves it, and fails on a frozen one with
 * `TypeError: Cannot set properties of undefined`. The consumer-project test shows it end to
 * end on the newest SDK; these check each side of the fix on its own, with the workspace's SDK.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createLocalDynamoDbClient, createLocalKinesisClient, LOCAL_CREDENTIALS, localCredentials } from '@kcl-ts/local';
import { describe, expect, it } from 'vitest';
import { clientConfigs } from '../../packages/kcl/src/config.js';

type Credentials = Awaited<ReturnType<DynamoDBClient['config']['credentials']>>;

/** Resolves a client's credentials the way the SDK does before signing a request. */
async function resolveCredentials(client: KinesisClient | DynamoDBClient): Promise<Credentials> {
  try {
    return await client.config.credentials({});
  } finally {
    client.destroy();
  }
}

describe('credentials handed to the AWS SDK', () => {
  it('the SDK itself fails on a frozen credentials object (what the fix guards against)', async () => {
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: Object.freeze({ accessKeyId: 'a', secretAccessKey: 'b' }) });
    await expect(resolveCredentials(client)).rejects.toThrow(TypeError);
  });

  it('clientConfigs gives each client its own copy of a credentials object, frozen or not', async () => {
    const frozen = Object.freeze({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' });
    const configs = clientConfigs({ region: 'us-east-1', credentials: frozen });
    expect(configs.kinesis.credentials).toEqual(frozen);
    expect(configs.kinesis.credentials).not.toBe(frozen);
    expect(configs.dynamoDb.credentials).not.toBe(configs.kinesis.credentials);
    const kinesis = await resolveCredentials(new KinesisClient(configs.kinesis));
    const dynamoDb = await resolveCredentials(new DynamoDBClient(configs.dynamoDb));
    expect(kinesis).toMatchObject({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' });
    expect(dynamoDb).toMatchObject({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' });
    expect(Object.keys(frozen)).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken']);
  });

  it('clientConfigs passes a credential provider as is', () => {
    const provider = async (): Promise<Credentials> => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const configs = clientConfigs({ credentials: provider });
    expect(configs.kinesis.credentials).toBe(provider);
    expect(configs.dynamoDb.credentials).toBe(provider);
  });

  it('@kcl-ts/local exposes no frozen credentials and hands out fresh copies', async () => {
    expect(Object.isFrozen(LOCAL_CREDENTIALS)).toBe(false);
    const a = localCredentials();
    expect(a).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' });
    expect(a).not.toBe(localCredentials());
    expect(Object.isFrozen(a)).toBe(false);
    const target = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: Object.freeze({ accessKeyId: 'x', secretAccessKey: 'y' }) };
    expect(await resolveCredentials(createLocalKinesisClient(target))).toMatchObject({ accessKeyId: 'x' });
    expect(await resolveCredentials(createLocalDynamoDbClient(target))).toMatchObject({ accessKeyId: 'x' });
  });
});
