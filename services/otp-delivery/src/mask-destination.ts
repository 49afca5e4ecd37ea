/**
 * Masked destination for delivery records and events: enough to recognize it in support, not
 * enough to contact the person (`j***@example.com`, `+1202*****34`). The full address is never
 * stored: the job carries it, and nothing after delivery needs it.
 */
export function maskDestination(channel: "email" | "sms", to: string): string {
  if (channel === "email") {
    const at = to.lastIndexOf("@");
    if (at <= 0) return "***";
    return `${to.slice(0, 1)}***${to.slice(at)}`;
  }
  // E.164: keep "+" and the country/area prefix (up to 4 digits) and the last 2 digits.
  if (to.length < 8) return `${to.slice(0, 2)}***`;
  const head = to.slice(0, 5);
  const tail = to.slice(-2);
  return `${head}${"*".repeat(to.length - head.length - tail.length)}${tail}`;
}
