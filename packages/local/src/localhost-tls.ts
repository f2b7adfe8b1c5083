/**
 * A self-signed certificate for `localhost` (DNS `localhost`, IP `127.0.0.1` and `::1`; EC P-256,
 * valid until 2126) for the local HTTP/2 endpoint of {@link startSubscribeToShardServer}. It
 * is public test material, never a secret: clients trust it through {@link LOCALHOST_TLS}`.cert`
 * as their only CA.
 * @module
 */

/** The key and certificate of the local TLS endpoint (PEM). */
export interface LocalTlsMaterial {
  /** The private key, PEM. */
  readonly key: string;
  /** The self-signed certificate, PEM: also the CA a client trusts. */
  readonly cert: string;
}

/** The test certificate for `localhost` and its key. Public: never use it outside local tests. */
export const LOCALHOST_TLS: LocalTlsMaterial = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTAphJcKxGe1uMHlb
Mz/sqiUcMXa2IQXSRNvsrA/M6a+hRANCAATJCE0Bd4Vtpud5hHeeE7UF3vorBLhV
0L2HQ3m5+99qm27lI+LGC1a3vbApvviJw+02teW+SqLc6xSDq9/ofKtp
-----END PRIVATE KEY-----\n`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBrjCCAVSgAwIBAgIUBCZvIqzWfrXGiHkt1s2clcVKDK8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTEyMzMxMFoYDzIxMjYxMTA1
MTIzMzEwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATJCE0Bd4Vtpud5hHeeE7UF3vorBLhV0L2HQ3m5+99qm27lI+LGC1a3
vbApvviJw+02teW+SqLc6xSDq9/ofKtpo4GBMH8wHQYDVR0OBBYEFKKbiNWghiys
85i8KfQxumtrue9RMB8GA1UdIwQYMBaAFKKbiNWghiys85i8KfQxumtrue9RMA8G
A1UdEwEB/wQFMAMBAf8wLAYDVR0RBCUwI4IJbG9jYWxob3N0hwR/AAABhxAAAAAA
AAAAAAAAAAAAAAABMAoGCCqGSM49BAMCA0gAMEUCIB0YcLcbLo0pSQGuiTj79tjd
FNR7UUhYywui6pzJMtk0AiEAtFiYffzK55kLzPIxsyjo2bEkbWXpxLPvPpz0QfM5
Yrk=
-----END CERTIFICATE-----\n`,
};
