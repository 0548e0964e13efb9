"""The secrets check: no plaintext that was encrypted and no secret access key appears in any data
dir (the SQLite database, its -wal and -shm files, everything else) nor in the servers' logs.

Usage: check_secrets.py NEEDLES WORK_DIR COUNTS_FILE
NEEDLES has one "label<TAB>base64" line per plaintext or secret that the tests used. Every
WORK_DIR/data-*/credentials file is read for its secret access key, and is itself the one file
exempt from the search: it is where ferrokms hands the administrator its key, by design.
Each needle is searched for raw, as standard base64 and as lowercase hex. Prints PASS/FAIL per
check and writes "PASSED FAILED" to COUNTS_FILE.
"""

import base64
import configparser
import sys
from pathlib import Path

MIN_NEEDLE_BYTES = 8


def needles(needles_file, data_dirs):
    found = []
    for line in Path(needles_file).read_text(encoding="ascii").splitlines():
        if line.strip():
            label, encoded = line.rsplit("\t", 1)
            found.append((label, base64.b64decode(encoded)))
    for data_dir in data_dirs:
        parser = configparser.ConfigParser()
        parser.read(data_dir / "credentials")
        for profile in parser.sections():
            secret = parser[profile].get("aws_secret_access_key")
            if secret:
                found.append((f"admin secret of {data_dir.name}", secret.encode()))
    unique = {}
    for label, data in found:
        if len(data) >= MIN_NEEDLE_BYTES:
            unique.setdefault(data, label)
    return [(label, data) for data, label in unique.items()]


def forms(data):
    yield "raw", data
    yield "base64", base64.b64encode(data)
    yield "hex", data.hex().encode()


def main():
    needles_file, work, counts_file = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    data_dirs = sorted(p for p in work.glob("data-*") if p.is_dir())
    files = [p for d in data_dirs for p in d.rglob("*") if p.is_file() and p.name != "credentials"]
    files += sorted((work / "logs").glob("*")) if (work / "logs").is_dir() else []
    contents = {p: p.read_bytes() for p in files}
    searched = needles(needles_file, data_dirs)
    passed = failed = 0

    def report(ok, name):
        nonlocal passed, failed
        print(("PASS  " if ok else "FAIL  ") + name)
        passed, failed = passed + ok, failed + (not ok)

    report(bool(data_dirs) and any(p.name.endswith(".db") for p in contents),
           f"secrets check has data to search ({len(data_dirs)} data dirs, {len(files)} files, "
           f"{sum(len(c) for c in contents.values())} bytes)")
    report(len(searched) >= 3, f"secrets check has needles ({len(searched)})")
    for label, data in searched:
        hits = [f"{path} ({form})" for path, content in contents.items()
                for form, pattern in forms(data) if pattern in content]
        report(not hits, f"not stored or logged: {label}")
        for hit in hits:
            print(f"      found in {hit}")
    Path(counts_file).write_text(f"{passed} {failed}\n")


if __name__ == "__main__":
    main()
