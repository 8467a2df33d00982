// 7 lines 4 code 2 comments 1 blanks
interface A {
  /** doc */
  url: string; // "https://example.com"
}

const a: A = { url: "https://example.com/*" };
