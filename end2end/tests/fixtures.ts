import { test as base, expect, Page, APIRequestContext } from "@playwright/test";

export type LedgerEntry = {
  id: string;
  idempotency_key: string;
  amount_minor: number;
  currency: string;
  status: string;
  charge_count: number;
};

type Fixtures = {
  /** The page, loaded and hydrated, failing the test on any page error or unexpected console error. */
  checkout: Page;
};

/** Messages Chromium itself logs for answers the scenarios provoke on purpose (409, 429, dropped connections). */
const expectedNetworkNoise = /Failed to load resource|net::ERR_(EMPTY_RESPONSE|ABORTED|CONNECTION)/;

export const test = base.extend<Fixtures>({
  checkout: async ({ page }, use, testInfo) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && !expectedNetworkNoise.test(message.text())) {
        errors.push(`console error: ${message.text()}`);
      }
    });
    await page.goto("/");
    await waitForHydration(page);
    await use(page);
    await page.screenshot({ path: testInfo.outputPath(`${testInfo.title.replace(/\W+/g, "-")}.png`), fullPage: true });
    expect(errors, "no page or console errors").toEqual([]);
  },
});

export async function waitForHydration(page: Page) {
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  // Signed in once the Pay button is enabled.
  await expect(page.getByRole("button", { name: "Pay", exact: true })).toBeEnabled();
}

/** The server's own ledger for this browser's session: the truth, not the page's claim. */
export async function ledger(request: APIRequestContext): Promise<LedgerEntry[]> {
  const response = await request.get("/api/payments");
  expect(response.status()).toBe(200);
  return response.json();
}

export async function pendingKeys(page: Page): Promise<string[]> {
  return page.evaluate(() => JSON.parse(localStorage.getItem("payonce.pending") ?? "[]").map((p: { key: string }) => p.key));
}

export async function attemptStatuses(page: Page): Promise<string[]> {
  return page.locator('[data-testid="attempt-log"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status") ?? ""));
}

export { expect };
