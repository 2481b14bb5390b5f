// The seed demo: three reads in parallel — README, deno.json and the git log — reduced in code
// to a short version summary of this repository. Only the summary goes back to the model.
// Run it with: deno task demo   (the same as: deno task codemode run --allow-run --trace examples/seed_demo.ts)

const [readme, config, log] = await Promise.all([
  read_file({ path: "README.md" }),
  read_file({ path: "deno.json" }),
  bash({ command: "git log --pretty=format:%h%x09%ad%x09%s --date=short -n 200" }),
]);

const pkg = JSON.parse(config);
const title = readme.split("\n").find((line) => line.startsWith("# "))?.slice(2) ?? "(no title)";
const commits = log.exitCode === 0 ? log.stdout.split("\n").filter(Boolean) : [];
const days = new Set(commits.map((c) => c.split("\t")[1]));
const sections = readme.split("\n").filter((line) => line.startsWith("## ")).map((l) => l.slice(3));

print(`${pkg.name} ${pkg.version} — ${title}`);
print(`exports: ${Object.keys(pkg.exports ?? {}).join(", ")}`);
print(`tasks: ${Object.keys(pkg.tasks ?? {}).join(", ")}`);
print(`dependencies: ${Object.keys(pkg.imports ?? {}).length}`);
print(`README: ${readme.split("\n").length} lines; sections: ${sections.slice(0, 6).join(" · ")}`);
if (commits.length > 0) {
  const [hash, date, subject] = commits[0].split("\t");
  print(`commits: ${commits.length} over ${days.size} days`);
  print(`latest: ${hash} ${date} ${subject}`);
  print(`first: ${commits.at(-1)!.split("\t").slice(1).join(" ")}`);
} else {
  print(`git log: ${log.stderr.trim().split("\n")[0] || "no commits yet"}`);
}
