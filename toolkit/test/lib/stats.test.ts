// Statistics against hand-computed values, closed forms of the t distribution (df = 1: Cauchy,
// df = 2: t/(2·sqrt(2 + t²))), and Welch's first worked example from the literature (Wikipedia,
// "Welch's t-test", example 1: t = −2.46, ν = 24.99, p = 0.021).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  lnGamma,
  mad,
  madOutliers,
  median,
  regIncBeta,
  summarize,
  tCdf,
  variance,
  welch,
} from "../../src/lib/stats.js";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b} (tol ${tol})`);

describe("stats: summaries", () => {
  it("median, variance, MAD of small samples computed by hand", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    // mean 5, squared deviations 9+1+1+9 = 20, /3
    close(variance([2, 4, 6, 8]), 20 / 3, 1e-12);
    // median 3; |x−3| = 2,1,0,1,97 -> median 1
    assert.equal(mad([1, 2, 3, 4, 100]), 1);
  });

  it("flags by the modified z-score 0.6745·|x−m|/MAD > 3.5", () => {
    // m = 10, MAD = 1: 15 scores 3.37 (kept), 16 scores 4.05 (flagged)
    assert.deepEqual(madOutliers([9, 10, 11, 10, 15]), []);
    assert.deepEqual(madOutliers([9, 10, 11, 10, 16]), [4]);
    assert.deepEqual(madOutliers([5, 5, 5, 9]), [], "MAD 0: nothing judged");
    assert.deepEqual(madOutliers([1, 100]), [], "two values: nothing judged");
  });

  it("summarize keeps everything together", () => {
    const s = summarize([12, 10, 11, 13, 40]);
    assert.deepEqual([s.n, s.median, s.min, s.max, s.mad], [5, 12, 10, 40, 1]);
    close(s.mean, 17.2, 1e-12);
    close(
      s.stddev,
      Math.sqrt(((12 - 17.2) ** 2 + (10 - 17.2) ** 2 + (11 - 17.2) ** 2 + (13 - 17.2) ** 2 + (40 - 17.2) ** 2) / 4),
      1e-12,
    );
    assert.deepEqual(s.outliers, [4]);
    assert.equal(summarize([7]).stddev, 0);
  });
});

describe("stats: t distribution", () => {
  it("lnGamma matches factorials and Γ(1/2) = √π", () => {
    close(lnGamma(10), Math.log(362880), 1e-10);
    close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-12);
  });

  it("regularized incomplete beta: closed forms and references", () => {
    // I_x(1, b) = 1 − (1 − x)^b ; I_x(a, 1) = x^a
    close(regIncBeta(0.3, 1, 4), 1 - 0.7 ** 4, 1e-13);
    close(regIncBeta(0.6, 3, 1), 0.6 ** 3, 1e-13);
    // I_x(1/2, 1/2) = (2/π)·asin(√x)
    close(regIncBeta(0.9, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(0.9)), 1e-12);
    close(regIncBeta(0.4, 2.5, 3.5), 0.4869041915261176, 1e-12); // scipy.special.betainc(2.5, 3.5, 0.4)
  });

  it("tCdf: df 1 and 2 closed forms, table values", () => {
    for (const t of [-7, -1.3, 0, 0.4, 2, 25]) {
      close(tCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `df1 t=${t}`);
      close(tCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `df2 t=${t}`);
    }
    close(tCdf(2.228, 10), 0.975, 1e-4); // the textbook 95 % two-sided critical value
    close(tCdf(-1.5, 3.7), 0.10679908460100675, 1e-10); // scipy.stats.t.cdf
  });
});

describe("stats: Welch's t-test", () => {
  it("reproduces the published example", () => {
    const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const r = welch(a1, a2)!;
    close(r.t, 2.455356398286006, 1e-9, "t"); // sign: mean(b) − mean(a)
    close(r.df, 24.988529290231416, 1e-8, "df");
    close(r.p, 0.021378001462866992, 1e-9, "p");
  });

  it("small benchmark samples and degenerate cases", () => {
    const r = welch([10.1, 10.3, 9.9, 10.0, 10.2], [10.6, 10.9, 10.4, 10.8, 10.7])!;
    close(r.p, 0.0009149056076467213, 1e-10);
    close(r.df, 7.711133400200599, 1e-9);
    assert.equal(welch([1], [1, 2]), null);
    assert.deepEqual(welch([5, 5], [5, 5]), { t: 0, df: 2, p: 1 });
    assert.equal(welch([5, 5], [6, 6])!.p, 0);
  });
});
