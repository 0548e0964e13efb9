//! Telling deletions from reorderings and copies, by sequence number.
//!
//! The hash chain proves *that* records were removed or moved; the
//! sequence numbers (covered by each record's hash) say *which*. While
//! reading, the tracker notes gaps (a number jumps ahead) and late runs
//! (numbers at or below the highest seen). At the end, late records that
//! fill a gap were reordered, late records that fill none are copies, and
//! what is left of the gaps is missing. Everything is kept as intervals, so
//! a moved file or a forged huge number costs one entry, not one per record.
//!
//! The tracker also decides whether a break in the hash chain is already
//! explained by one of these findings (or by an altered record) on the
//! same or a neighbouring line, so one edit is reported once.

use super::report::Problem;

/// A place in the trail: index of the file in the checked list, line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: usize,
    pub line: u64,
}

#[derive(Debug, Clone, Copy)]
struct Gap {
    first: u64,
    last: u64,
    at: Loc,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    first_seq: u64,
    last_seq: u64,
    file: usize,
    first_line: u64,
    last_line: u64,
}

#[derive(Debug, Default)]
pub(crate) struct SeqTracker {
    max: Option<u64>,
    gaps: Vec<Gap>,
    late: Vec<Run>,
    altered: Vec<Loc>,
    breaks: Vec<Loc>,
}

impl SeqTracker {
    /// Sets the highest number already accounted for (`None`: unknown, the
    /// next record sets it).
    pub fn restart_after(&mut self, seq: Option<u64>) {
        self.max = seq;
    }

    /// A valid record with number `seq` at `at`.
    pub fn observe(&mut self, seq: u64, at: Loc) {
        match self.max {
            None => self.max = Some(seq),
            Some(max) if seq == max.saturating_add(1) => self.max = Some(seq),
            Some(max) if seq > max => {
                self.gaps.push(Gap {
                    first: max + 1,
                    last: seq - 1,
                    at,
                });
                self.max = Some(seq);
            }
            Some(_) => match self.late.last_mut() {
                Some(run)
                    if run.file == at.file
                        && run.last_line + 1 == at.line
                        && run.last_seq.checked_add(1) == Some(seq) =>
                {
                    run.last_seq = seq;
                    run.last_line = at.line;
                }
                _ => self.late.push(Run {
                    first_seq: seq,
                    last_seq: seq,
                    file: at.file,
                    first_line: at.line,
                    last_line: at.line,
                }),
            },
        }
    }

    /// An altered line at `at`: it takes the next number, whatever it says.
    pub fn altered(&mut self, at: Loc) {
        self.max = self.max.map(|m| m.saturating_add(1));
        self.altered.push(at);
    }

    /// A record at `at` whose `prev` is not the hash of the record before.
    pub fn chain_break(&mut self, at: Loc) {
        self.breaks.push(at);
    }

    /// A signed digest says the file ended with `last_seq`; numbers not
    /// seen up to it are missing at the end of the file (`at` is one past
    /// its last line).
    pub fn expect_through(&mut self, last_seq: u64, at: Loc) {
        if let Some(max) = self.max {
            if last_seq > max {
                self.gaps.push(Gap {
                    first: max + 1,
                    last: last_seq,
                    at,
                });
                self.max = Some(last_seq);
            }
        }
    }

    /// The problems found, file indices resolved through `names`.
    pub fn finish(self, names: &[String]) -> Vec<Problem> {
        let name = |i: usize| names.get(i).cloned().unwrap_or_default();
        let gap_spans: Vec<(u64, u64)> = sorted(self.gaps.iter().map(|g| (g.first, g.last)));
        let late_spans: Vec<(u64, u64)> =
            sorted(self.late.iter().map(|r| (r.first_seq, r.last_seq)));
        let mut problems = Vec::new();
        for run in &self.late {
            let line_of = |seq: u64| run.first_line + (seq - run.first_seq);
            for g in &self.gaps {
                let (lo, hi) = (run.first_seq.max(g.first), run.last_seq.min(g.last));
                if lo <= hi {
                    problems.push(Problem::RecordsOutOfOrder {
                        file: name(run.file),
                        first_line: line_of(lo),
                        last_line: line_of(hi),
                        first_seq: lo,
                        last_seq: hi,
                    });
                }
            }
            for (lo, hi) in subtract((run.first_seq, run.last_seq), &gap_spans) {
                problems.push(Problem::RecordsDuplicated {
                    file: name(run.file),
                    first_line: line_of(lo),
                    last_line: line_of(hi),
                    first_seq: lo,
                    last_seq: hi,
                });
            }
        }
        for g in &self.gaps {
            for (lo, hi) in subtract((g.first, g.last), &late_spans) {
                problems.push(Problem::RecordsMissing {
                    file: name(g.at.file),
                    line: g.at.line,
                    first_seq: lo,
                    last_seq: hi,
                });
            }
        }
        for b in &self.breaks {
            if !self.explains(*b) {
                problems.push(Problem::ChainBroken {
                    file: name(b.file),
                    line: b.line,
                });
            }
        }
        problems
    }

    /// Whether a finding on the same or a neighbouring line of `at`'s file
    /// accounts for a chain break there.
    fn explains(&self, at: Loc) -> bool {
        let near = |file: usize, first: u64, last: u64| {
            file == at.file && first.saturating_sub(1) <= at.line && at.line <= last + 1
        };
        self.gaps
            .iter()
            .any(|g| near(g.at.file, g.at.line, g.at.line))
            || self
                .late
                .iter()
                .any(|r| near(r.file, r.first_line, r.last_line))
            || self.altered.iter().any(|a| near(a.file, a.line, a.line))
    }
}

fn sorted(spans: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut v: Vec<_> = spans.collect();
    v.sort_unstable();
    v
}

/// The parts of `span` not covered by `others` (sorted by start).
fn subtract(span: (u64, u64), others: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let (mut lo, hi) = span;
    let mut out = Vec::new();
    for &(a, b) in others {
        if b < lo || a > hi {
            continue;
        }
        if a > lo {
            out.push((lo, a - 1));
        }
        if b >= hi {
            return out;
        }
        lo = lo.max(b + 1);
    }
    out.push((lo, hi));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64) -> Loc {
        Loc { file: 0, line }
    }

    fn run(seqs: &[u64]) -> Vec<Problem> {
        let mut t = SeqTracker::default();
        t.restart_after(Some(0));
        for (i, &s) in seqs.iter().enumerate() {
            t.observe(s, at(i as u64 + 1));
        }
        t.finish(&["f".to_owned()])
    }

    #[test]
    fn in_order_is_clean() {
        assert!(run(&[1, 2, 3, 4]).is_empty());
    }

    #[test]
    fn a_deleted_record_is_missing_before_the_next_line() {
        assert_eq!(
            run(&[1, 2, 4, 5]),
            vec![Problem::RecordsMissing {
                file: "f".into(),
                line: 3,
                first_seq: 3,
                last_seq: 3
            }]
        );
    }

    #[test]
    fn swapped_records_are_out_of_order_not_missing() {
        assert_eq!(
            run(&[1, 3, 2, 4]),
            vec![Problem::RecordsOutOfOrder {
                file: "f".into(),
                first_line: 3,
                last_line: 3,
                first_seq: 2,
                last_seq: 2
            }]
        );
    }

    #[test]
    fn a_moved_block_is_one_finding() {
        let p = run(&[1, 2, 5, 6, 7, 3, 4, 8]);
        assert_eq!(
            p,
            vec![Problem::RecordsOutOfOrder {
                file: "f".into(),
                first_line: 6,
                last_line: 7,
                first_seq: 3,
                last_seq: 4
            }]
        );
    }

    #[test]
    fn copies_are_duplicates() {
        assert_eq!(
            run(&[1, 2, 3, 2, 3, 4]),
            vec![Problem::RecordsDuplicated {
                file: "f".into(),
                first_line: 4,
                last_line: 5,
                first_seq: 2,
                last_seq: 3
            }]
        );
    }

    #[test]
    fn records_missing_at_the_end_are_found_through_the_digest() {
        let mut t = SeqTracker::default();
        t.restart_after(Some(0));
        t.observe(1, at(1));
        t.expect_through(3, at(2));
        assert_eq!(
            t.finish(&["f".to_owned()]),
            vec![Problem::RecordsMissing {
                file: "f".into(),
                line: 2,
                first_seq: 2,
                last_seq: 3
            }]
        );
    }

    #[test]
    fn chain_breaks_next_to_findings_are_not_repeated() {
        let mut t = SeqTracker::default();
        t.restart_after(Some(0));
        t.observe(1, at(1));
        t.altered(at(2));
        t.chain_break(at(3));
        t.observe(3, at(3));
        t.chain_break(at(9));
        assert_eq!(
            t.finish(&["f".to_owned()]),
            vec![Problem::ChainBroken {
                file: "f".into(),
                line: 9
            }]
        );
    }

    #[test]
    fn subtract_handles_overlaps() {
        assert_eq!(
            subtract((1, 10), &[(3, 4), (6, 6)]),
            vec![(1, 2), (5, 5), (7, 10)]
        );
        assert_eq!(subtract((1, 10), &[(0, 20)]), vec![]);
        assert_eq!(subtract((5, 6), &[(1, 2)]), vec![(5, 6)]);
    }
}
