// Prints the README's settings table from the configuration schema: `npx tsx scripts/settings-table.ts`.
import { settingsTableMarkdown } from '../lib/config/settings-table';

process.stdout.write(`${settingsTableMarkdown()}\n`);
