/** Where the conversation flows live: flows/ at the project root. */
import { fileURLToPath } from 'node:url';

export const FLOWS_DIR = fileURLToPath(new URL('../../../flows', import.meta.url));
