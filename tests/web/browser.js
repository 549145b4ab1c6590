// browser.js - the quarantine page in a real headless Chromium, driven
// by Playwright (playwright-core, installed by browser.sh at test time).
//
// usage: node browser.js CHROMIUM BASE_URL LIST_URL MSG_URL BOB_ID STATE
// LIST_URL and MSG_URL are alice's links from her digest (the message
// with the HTML part).  Prints ok/FAIL lines; writes "PASSED FAILED" to
// STATE.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

const [chromePath, base, listUrl, msgUrl, bobId, stateOut] =
    process.argv.slice(2);
const origin = new URL(base).origin;
let passed = 0, failed = 0;

function check(name, cond, why) {
	if (cond) {
		passed++;
		console.log('ok - ' + name);
	} else {
		failed++;
		console.log('FAIL - ' + name + ': ' + (why || ''));
	}
}

(async () => {
	const browser = await chromium.launch({
		executablePath: chromePath,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
	const context = await browser.newContext();
	const page = await context.newPage();
	const leaving = [], consoleErrors = [], pageErrors = [];
	let phase = 'normal';
	// Every request the pages make: none may leave the server.  Those
	// that would are recorded and aborted (never sent).
	await context.route('**/*', route => {
		const u = route.request().url();
		if (new URL(u).origin !== origin) {
			leaving.push(u);
			return route.abort();
		}
		return route.continue();
	});
	page.on('console', m => {
		if (m.type() === 'error')
			consoleErrors.push(phase + ': ' + m.text());
	});
	page.on('pageerror', e => pageErrors.push(String(e)));

	try {
		// 1. The digest's link opens alice's list.
		let resp = await page.goto(listUrl);
		check('the digest link opens the list (200)',
		    resp.status() === 200, resp.status());
		const rows = await page.locator('tbody tr').allTextContents();
		check('the list shows alice\'s three messages',
		    rows.length === 3 && rows.some(r => r.includes('Cheap pills')),
		    JSON.stringify(rows));
		check('the list does not show bob\'s or malice\'s message',
		    !rows.some(r => r.includes('For Bob only') ||
		    r.includes('For Malice')),
		    JSON.stringify(rows));
		const css = await page.evaluate(() =>
		    getComputedStyle(document.body).fontFamily);
		check('the stylesheet loads (CSP style-src \'self\')',
		    /sans-serif/.test(css), css);

		// 2. The message, as text.
		await page.getByRole('link', { name: /You won/ }).click();
		await page.waitForLoadState('load');
		check('the message page opens from the list',
		    (await page.title()) === 'Quarantined message',
		    await page.title());
		const counts = await page.evaluate(() => ({
			script: document.querySelectorAll('script').length,
			img: document.querySelectorAll('img').length,
			iframe: document.querySelectorAll('iframe').length,
			b: document.querySelectorAll('pre b, td b').length,
			links: document.querySelectorAll('link').length,
		}));
		check('no element of the message became markup (script, img, '
		    + 'iframe, b; only our stylesheet link)',
		    counts.script === 0 && counts.img === 0 &&
		    counts.iframe === 0 && counts.b === 0 && counts.links === 1,
		    JSON.stringify(counts));
		const pre = await page.locator('pre').textContent();
		check('the preview shows the message\'s text, tags as text',
		    pre.includes('Claim your prize at <script>alert("plain")'
		    + '</script> today.'), pre);
		const subj = await page.locator('table.meta').textContent();
		check('the subject shows as text',
		    subj.includes('<b>You won</b> a "prize" & more'), subj);

		const buttons = await page.getByRole('button').allTextContents();
		check('the page offers release, release and allow, delete',
		    JSON.stringify(buttons) === JSON.stringify(['Release',
		    'Release and allow the sender', 'Delete']),
		    JSON.stringify(buttons));

		// 3. Release by clicking the button.
		await Promise.all([page.waitForNavigation(),
		    page.getByRole('button', { name: 'Release', exact: true })
		    .click()]);
		const done = await page.locator('p.ok').textContent();
		check('release from the page succeeds',
		    done.includes('Released'), done);
		await page.getByRole('link', { name: 'Back to the list' }).click();
		await page.waitForLoadState('load');
		const rows2 = await page.locator('tbody tr').allTextContents();
		check('the released message left the list',
		    rows2.length === 2 && !rows2.some(r => r.includes('You won')),
		    JSON.stringify(rows2));
		check('no console errors and no page errors on the pages',
		    consoleErrors.length === 0 && pageErrors.length === 0,
		    JSON.stringify(consoleErrors.concat(pageErrors)));

		// 4. Refusals: replay, forged, another user's id.
		phase = 'refused';
		resp = await page.goto(msgUrl);
		check('the message link after its release is refused (410)',
		    resp.status() === 410, resp.status());
		const u = new URL(listUrl);
		const s = u.searchParams.get('s');
		u.searchParams.set('s', (s[0] === '0' ? '1' : '0') + s.slice(1));
		resp = await page.goto(u.toString());
		check('a forged link is refused (403) and shows no mail',
		    resp.status() === 403 &&
		    (await page.locator('tbody').count()) === 0, resp.status());
		const m = new URL(msgUrl);
		m.searchParams.set('id', bobId);
		resp = await page.goto(m.toString());
		const body = await page.locator('body').textContent();
		check('alice\'s link with bob\'s id is refused (403)',
		    resp.status() === 403 && !body.includes('For Bob only'),
		    resp.status() + ' ' + body);
	} catch (e) {
		check('the browser run', false, e.stack);
	}
	check('no request left the server', leaving.length === 0,
	    JSON.stringify(leaving));
	await browser.close();
	fs.writeFileSync(stateOut, passed + ' ' + failed + '\n');
})();
