/** Schema names come from config, never from user input; still, refuse anything but a plain identifier. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return name;
}
