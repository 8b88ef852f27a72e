import { runServer } from '@splitstream/shared';
import { app } from './app';
import { loadIngestConfig } from './config';

void runServer({ service: 'ingest', loadConfig: loadIngestConfig, app });
