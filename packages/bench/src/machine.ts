/**
 * A description of the machine the benchmarks ran on.
 * @module
 */
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';

/** Machine facts for the report. */
export interface MachineInfo {
  readonly os: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  /** 1-minute load average when sampled. */
  readonly load1: number;
}

/** Samples the machine now. */
export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    os: `${osType()} ${release()}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}
