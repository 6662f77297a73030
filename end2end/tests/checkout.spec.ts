import { test, expect, ledger, pendingKeys, attemptStatuses, waitForHydration } from "./fixtures";

const result = (page: import("@playwright/test").Page) => page.getByTestId("result");

test("the page hydrates and a click pays once", async ({ checkout: page }) => {
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await expect(result(page)).toContainText("charged once");
  await expect(result(page)).toContainText("No protection was needed");
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].charge_count).toBe(1);
  expect(entries[0].amount_minor).toBe(1250);
  await expect(page.getByTestId("ledger")).toContainText("✓ charged once");
  expect(await pendingKeys(page)).toEqual([]);
});

test("a lost response is retried with the same key and replayed: one charge", async ({ checkout: page }) => {
  await page.getByLabel("Lose the response").check();
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await expect(result(page)).toContainText("charged once");
  await expect(result(page)).toContainText("replayed the stored answer");
  expect(await attemptStatuses(page)).toEqual(["201", "none"]);
  await expect(page.getByTestId("attempt-log").locator("tbody tr").first()).toContainText("yes");
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].charge_count).toBe(1);
});

test("a lost request is retried with the same key: one charge", async ({ checkout: page }) => {
  await page.getByLabel("Lose the request").check();
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await expect(result(page)).toContainText("charged once");
  expect(await attemptStatuses(page)).toEqual(["201", "none"]);
  const keys = await page.getByTestId("attempt-log").locator("tbody tr code").allTextContents();
  expect(new Set(keys).size).toBe(1);
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].charge_count).toBe(1);
});

test("a slow response gets 409 while in flight, then the replay: one charge", async ({ checkout: page }) => {
  await page.getByLabel("Slow response").check();
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await expect(page.getByRole("button", { name: "Paying…" })).toBeDisabled();
  await expect(result(page)).toContainText("charged once", { timeout: 30_000 });
  const statuses = await attemptStatuses(page);
  expect(statuses[0]).toBe("201");
  expect(statuses).toContain("409");
  await expect(result(page)).toContainText("in flight (409)");
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].charge_count).toBe(1);
});

test("a refresh mid-payment resumes it with the same key: one charge", async ({ checkout: page }) => {
  await page.getByLabel("Slow response").check();
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await expect.poll(() => pendingKeys(page)).toHaveLength(1);
  const [key] = await pendingKeys(page);
  await page.reload();
  await expect(result(page)).toContainText("Resuming your payment");
  await expect(result(page)).toContainText("charged once", { timeout: 30_000 });
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].idempotency_key).toBe(key);
  expect(entries[0].charge_count).toBe(1);
  expect(await pendingKeys(page)).toEqual([]);
});

test("unguarded rapid clicks make new keys; the throttle answers 429 and one charge is made", async ({ checkout: page }) => {
  await page.getByLabel("Unguarded double click").check();
  // Five clicks 100 ms apart, timed in the page itself so a busy test machine cannot stretch them past the
  // throttle window.
  await page.getByRole("button", { name: "Pay", exact: true }).evaluate(async (button: HTMLButtonElement) => {
    for (let i = 0; i < 5; i++) {
      button.click();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  await expect.poll(async () => (await attemptStatuses(page)).length).toBe(5);
  await expect.poll(() => pendingKeys(page)).toEqual([]);
  const statuses = await attemptStatuses(page);
  expect(statuses.filter((s) => s === "201")).toHaveLength(1);
  expect(statuses.filter((s) => s === "429")).toHaveLength(4);
  const keys = await page.getByTestId("attempt-log").locator("tbody tr code").allTextContents();
  expect(new Set(keys).size).toBe(5);
  const entries = await ledger(page.request);
  expect(entries).toHaveLength(1);
  expect(entries[0].charge_count).toBe(1);
});

test("a throttled click says so in plain words", async ({ checkout: page }) => {
  await page.getByLabel("Unguarded double click").check();
  const pay = page.getByRole("button", { name: "Pay", exact: true });
  await pay.click();
  await expect(result(page)).toContainText("charged once");
  await pay.click();
  await expect(result(page)).toContainText("Duplicate click refused (429)");
  await expect(result(page)).toContainText("fingerprint throttle");
});

test("method semantics: POST twice makes two, PUT twice one state, DELETE twice 204 then 404", async ({ checkout: page }) => {
  const output = page.getByTestId("semantics-output");
  await page.getByRole("button", { name: "POST twice" }).click();
  await expect(output).toContainText("Two products: POST is not idempotent.");
  await page.getByRole("button", { name: "PUT twice" }).click();
  await expect(output).toContainText("Same state after each PUT");
  await page.getByRole("button", { name: "DELETE twice" }).click();
  await expect(output).toContainText("204 then 404");
  const gone = await page.request.get("/api/products/demo-chair");
  expect(gone.status()).toBe(404);
});

test("the theme preference is upserted and survives a reload", async ({ checkout: page }) => {
  const toggle = page.getByRole("switch", { name: "Dark theme" });
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(page.getByTestId("preferences-status")).toContainText("Saved dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  const saved = await (await page.request.get("/api/preferences")).json();
  expect(saved.theme).toBe("dark");
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole("switch", { name: "Dark theme" })).toHaveAttribute("aria-checked", "true");
});

test("the keyboard alone can pay", async ({ checkout: page }) => {
  await page.getByLabel("Amount").fill("3.10");
  await page.getByLabel("Amount").press("Enter");
  await expect(result(page)).toContainText("Paid 3.10 EUR");
  const entries = await ledger(page.request);
  expect(entries[0].amount_minor).toBe(310);
});
