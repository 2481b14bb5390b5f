/**
 * Programs that are hostile to the compiler rather than the sandbox, shared by the tests that
 * throw them at it.
 *
 * @module
 */

/** A template-literal type whose check takes tens of seconds (27 s on the dev machine). */
export const TEMPLATE_BOMB: string = (() => {
  let s = `type D = "0"|"1"|"2"|"3"|"4"|"5"|"6"|"7"|"8"|"9";\n`;
  for (let i = 0; i < 5; i++) {
    s += `type U${i} = \`\${D}\${D}\${D}\${D}${i}\`; declare const u${i}: U${i};\n` +
      `const v${i}: \`\${D}\${D}\${D}\${string}\` = u${i};\n` +
      `const w${i}: Exclude<U${i}, \`1\${string}\`> = u${i} as any;\n`;
  }
  return s + "print(1);\n";
})();
