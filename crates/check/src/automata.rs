//! Finite automata over ASCII strings, built for exact proofs about glob languages
//! (static-proof.md): NFAs with ε-edges built by composition, compiled over a small
//! alphabet of character classes ("atoms": characters no automaton tells apart share
//! one), and a lazily explored product of several compiled NFAs whose acceptance is a
//! boolean [`Formula`] of its components. A breadth-first search over the product gives
//! a shortest member of the formula's language, or proves it empty. No sampling: every
//! string is covered.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast multiplicative hasher for product states (bit sets); not DoS-resistant,
/// which does not matter for keys the proof builds itself.
#[derive(Default)]
struct StateHasher(u64);

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

type StateMap = HashMap<Vec<u64>, usize, BuildHasherDefault<StateHasher>>;

/// A set of ASCII characters (bit `c` set for character code `c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CharSet(u128);

impl CharSet {
    /// No character.
    pub const EMPTY: CharSet = CharSet(0);
    /// Every ASCII character.
    pub const ANY: CharSet = CharSet(u128::MAX);

    /// The single character `c` (empty when `c` is not ASCII: no string of the
    /// universe contains it).
    pub fn single(c: char) -> CharSet {
        if c.is_ascii() {
            CharSet(1u128 << (c as u32))
        } else {
            CharSet::EMPTY
        }
    }

    /// Every character of `chars`.
    pub fn of(chars: &str) -> CharSet {
        chars
            .chars()
            .fold(CharSet::EMPTY, |s, c| s.union(CharSet::single(c)))
    }

    /// The characters from `from` to `to` inclusive.
    pub fn range(from: char, to: char) -> CharSet {
        (from..=to).fold(CharSet::EMPTY, |s, c| s.union(CharSet::single(c)))
    }

    /// Union.
    pub fn union(self, other: CharSet) -> CharSet {
        CharSet(self.0 | other.0)
    }

    /// Intersection.
    pub fn intersect(self, other: CharSet) -> CharSet {
        CharSet(self.0 & other.0)
    }

    /// Difference.
    pub fn minus(self, other: CharSet) -> CharSet {
        CharSet(self.0 & !other.0)
    }

    /// Whether `c` is in the set.
    pub fn contains(self, c: char) -> bool {
        c.is_ascii() && self.0 & (1u128 << (c as u32)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A nondeterministic automaton with ε-edges, built by composition.
#[derive(Debug, Clone, Default)]
pub struct Nfa {
    edges: Vec<Vec<(CharSet, usize)>>,
    epsilon: Vec<Vec<usize>>,
    starts: Vec<usize>,
    accepting: Vec<bool>,
}

impl Nfa {
    /// The empty language (no state accepts).
    pub fn nothing() -> Nfa {
        let mut nfa = Nfa::default();
        let s = nfa.add_state();
        nfa.starts.push(s);
        nfa
    }

    /// The language `{ "" }`.
    pub fn empty_string() -> Nfa {
        let mut nfa = Nfa::nothing();
        nfa.accepting[0] = true;
        nfa
    }

    /// One character from `set`.
    pub fn class(set: CharSet) -> Nfa {
        let mut nfa = Nfa::nothing();
        let end = nfa.add_state();
        nfa.add_edge(0, set, end);
        nfa.accepting[end] = true;
        nfa
    }

    /// Exactly the string `text`.
    pub fn literal(text: &str) -> Nfa {
        text.chars().fold(Nfa::empty_string(), |nfa, c| {
            nfa.then(Nfa::class(CharSet::single(c)))
        })
    }

    /// Any string over `set`, including the empty one.
    pub fn star_of(set: CharSet) -> Nfa {
        let mut nfa = Nfa::empty_string();
        nfa.add_edge(0, set, 0);
        nfa
    }

    /// Exactly `n` characters from `set`.
    pub fn repeat(set: CharSet, n: usize) -> Nfa {
        (0..n).fold(Nfa::empty_string(), |nfa, _| nfa.then(Nfa::class(set)))
    }

    /// Adds a state and returns its index.
    pub fn add_state(&mut self) -> usize {
        self.edges.push(Vec::new());
        self.epsilon.push(Vec::new());
        self.accepting.push(false);
        self.edges.len() - 1
    }

    /// Adds an edge on any character of `set`.
    pub fn add_edge(&mut self, from: usize, set: CharSet, to: usize) {
        if !set.is_empty() {
            self.edges[from].push((set, to));
        }
    }

    /// Adds an ε-edge.
    pub fn add_epsilon(&mut self, from: usize, to: usize) {
        self.epsilon[from].push(to);
    }

    /// Marks `state` as a start state.
    pub fn add_start(&mut self, state: usize) {
        self.starts.push(state);
    }

    /// Marks `state` accepting.
    pub fn set_accepting(&mut self, state: usize) {
        self.accepting[state] = true;
    }

    fn append(&mut self, other: Nfa) -> usize {
        let offset = self.edges.len();
        for (edges, eps) in other.edges.into_iter().zip(other.epsilon) {
            self.edges
                .push(edges.into_iter().map(|(s, t)| (s, t + offset)).collect());
            self.epsilon
                .push(eps.into_iter().map(|t| t + offset).collect());
        }
        self.accepting.extend(other.accepting);
        offset
    }

    /// Concatenation: `self` then `next`.
    pub fn then(mut self, next: Nfa) -> Nfa {
        let next_starts: Vec<usize> = next.starts.clone();
        let old_accepting: Vec<usize> = (0..self.accepting.len())
            .filter(|&s| self.accepting[s])
            .collect();
        for s in &old_accepting {
            self.accepting[*s] = false;
        }
        let offset = self.append(next);
        for s in old_accepting {
            for t in &next_starts {
                self.epsilon[s].push(t + offset);
            }
        }
        self
    }

    /// Union of the two languages.
    pub fn or(mut self, other: Nfa) -> Nfa {
        let other_starts: Vec<usize> = other.starts.clone();
        let offset = self.append(other);
        self.starts
            .extend(other_starts.into_iter().map(|s| s + offset));
        self
    }

    /// Union of many languages (the empty language for none).
    pub fn any_of(languages: impl IntoIterator<Item = Nfa>) -> Nfa {
        languages.into_iter().fold(Nfa::nothing(), Nfa::or)
    }

    /// Compiles the automaton over `alphabet`: ε-closures folded into the transitions,
    /// states that cannot reach acceptance removed (so an empty state set means "never
    /// accepts from here").
    pub fn compile(&self, alphabet: &Alphabet) -> CompiledNfa {
        let n = self.edges.len();
        let words = n.div_ceil(64).max(1);
        // ε-closure of every state, once (depth-first over ε-edges).
        let mut closures = vec![0u64; n * words];
        for s in 0..n {
            let mut stack = vec![s];
            let own = &mut closures[s * words..(s + 1) * words];
            set_bit(own, s);
            while let Some(x) = stack.pop() {
                for &t in &self.epsilon[x] {
                    if !bit(own, t) {
                        set_bit(own, t);
                        stack.push(t);
                    }
                }
            }
        }
        let closure = |set: &mut Vec<u64>| {
            let mut out = vec![0u64; words];
            for s in (0..n).filter(|&s| bit(set, s)) {
                for (o, c) in out.iter_mut().zip(&closures[s * words..(s + 1) * words]) {
                    *o |= c;
                }
            }
            *set = out;
        };
        // Co-reachability (reverse search from accepting states over all edges).
        let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); n];
        for s in 0..n {
            for &(_, t) in &self.edges[s] {
                reverse[t].push(s);
            }
            for &t in &self.epsilon[s] {
                reverse[t].push(s);
            }
        }
        let mut live = vec![0u64; words];
        let mut stack: Vec<usize> = (0..n).filter(|&s| self.accepting[s]).collect();
        for &s in &stack {
            set_bit(&mut live, s);
        }
        while let Some(s) = stack.pop() {
            for &p in &reverse[s] {
                if !bit(&live, p) {
                    set_bit(&mut live, p);
                    stack.push(p);
                }
            }
        }
        let trim = |set: &mut Vec<u64>| {
            for (w, l) in set.iter_mut().zip(&live) {
                *w &= l;
            }
        };
        let atoms = alphabet.atoms.len();
        let mut delta = vec![0u64; n * atoms * words];
        for s in 0..n {
            for &(set, t) in &self.edges[s] {
                let target = &closures[t * words..(t + 1) * words];
                for (a, atom) in alphabet.atoms.iter().enumerate() {
                    // Atoms refine every edge set: meeting one means containing it.
                    if !set.intersect(*atom).is_empty() {
                        let at = (s * atoms + a) * words;
                        for (d, (c, l)) in delta[at..at + words]
                            .iter_mut()
                            .zip(target.iter().zip(&live))
                        {
                            *d |= c & l;
                        }
                    }
                }
            }
        }
        let mut start = vec![0u64; words];
        for &s in &self.starts {
            set_bit(&mut start, s);
        }
        closure(&mut start);
        trim(&mut start);
        let mut accept = vec![0u64; words];
        for s in 0..n {
            if self.accepting[s] {
                set_bit(&mut accept, s);
            }
        }
        CompiledNfa {
            states: n,
            words,
            atoms,
            start,
            accept,
            delta,
        }
    }

    /// The same automaton with every edge set replaced by `f(set)`.
    pub fn map_sets(mut self, f: impl Fn(CharSet) -> CharSet) -> Nfa {
        for edges in &mut self.edges {
            for (set, _) in edges.iter_mut() {
                *set = f(*set);
            }
        }
        self
    }

    /// Every character set used on an edge (input of [`Alphabet::new`]).
    pub fn char_sets(&self) -> impl Iterator<Item = CharSet> + '_ {
        self.edges.iter().flatten().map(|(s, _)| *s)
    }
}

fn bit(set: &[u64], i: usize) -> bool {
    set[i / 64] & (1 << (i % 64)) != 0
}

fn set_bit(set: &mut [u64], i: usize) {
    set[i / 64] |= 1 << (i % 64);
}

/// The characters of a universe split into atoms: maximal classes that no edge set
/// tells apart, each with a representative used to print witnesses.
#[derive(Debug, Clone)]
pub struct Alphabet {
    atoms: Vec<CharSet>,
    representatives: Vec<char>,
    atom_of: [u8; 128],
}

/// Order in which representatives are chosen, so that witnesses read naturally.
const PREFERENCE: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_/.+=@!:";

impl Alphabet {
    /// Splits `universe` into atoms refined by every set in `sets`. Atoms are ordered
    /// by their representative's place in a readable preference order.
    pub fn new(universe: CharSet, sets: impl IntoIterator<Item = CharSet>) -> Alphabet {
        let mut atoms = vec![universe];
        for set in sets {
            let mut refined = Vec::with_capacity(atoms.len() + 1);
            for atom in atoms {
                let inside = atom.intersect(set);
                let outside = atom.minus(set);
                if !inside.is_empty() {
                    refined.push(inside);
                }
                if !outside.is_empty() {
                    refined.push(outside);
                }
            }
            atoms = refined;
        }
        let mut ranks = [0usize; 128];
        for (c, rank) in ranks.iter_mut().enumerate() {
            *rank = PREFERENCE.len() + c;
        }
        for (i, c) in PREFERENCE.bytes().enumerate() {
            ranks[c as usize] = i;
        }
        let rank = |c: char| ranks[c as usize & 127];
        let mut with_rep: Vec<(CharSet, char)> = atoms
            .into_iter()
            .map(|atom| {
                let mut bits = atom.0;
                let mut rep = '?';
                while bits != 0 {
                    let c = char::from(bits.trailing_zeros() as u8);
                    bits &= bits - 1;
                    if rep == '?' || rank(c) < rank(rep) {
                        rep = c;
                    }
                }
                (atom, rep)
            })
            .collect();
        with_rep.sort_by_key(|(_, rep)| rank(*rep));
        let mut atom_of = [u8::MAX; 128];
        for (i, (atom, _)) in with_rep.iter().enumerate() {
            let mut bits = atom.0;
            while bits != 0 {
                atom_of[bits.trailing_zeros() as usize] = i as u8;
                bits &= bits - 1;
            }
        }
        Alphabet {
            atoms: with_rep.iter().map(|(a, _)| *a).collect(),
            representatives: with_rep.iter().map(|(_, r)| *r).collect(),
            atom_of,
        }
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// Whether the universe is empty.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    fn atom_of(&self, c: char) -> Option<usize> {
        if c.is_ascii() {
            let a = self.atom_of[c as usize];
            (a != u8::MAX).then_some(a as usize)
        } else {
            None
        }
    }
}

/// An NFA compiled over an [`Alphabet`]: a transition table from (state, atom) to the
/// ε-closed, trimmed set of next states.
#[derive(Debug, Clone)]
pub struct CompiledNfa {
    states: usize,
    words: usize,
    atoms: usize,
    start: Vec<u64>,
    accept: Vec<u64>,
    delta: Vec<u64>,
}

impl CompiledNfa {
    fn step(&self, from: &[u64], atom: usize, into: &mut [u64]) {
        into.fill(0);
        for (w, &word) in from.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let s = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let at = (s * self.atoms + atom) * self.words;
                for (i, next) in into.iter_mut().enumerate() {
                    *next |= self.delta[at + i];
                }
            }
        }
    }

    fn accepts_set(&self, set: &[u64]) -> bool {
        set.iter().zip(&self.accept).any(|(s, a)| s & a != 0)
    }

    /// Whether the automaton accepts `text` (characters outside the alphabet's universe
    /// are rejected).
    pub fn accepts(&self, alphabet: &Alphabet, text: &str) -> bool {
        let mut current = self.start.clone();
        let mut next = vec![0u64; self.words];
        for c in text.chars() {
            let Some(atom) = alphabet.atom_of(c) else {
                return false;
            };
            self.step(&current, atom, &mut next);
            std::mem::swap(&mut current, &mut next);
        }
        self.accepts_set(&current)
    }

    /// Number of states before trimming (for diagnostics and benches).
    pub fn state_count(&self) -> usize {
        self.states
    }
}

/// A boolean combination of the components of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Formula {
    /// Component `i` accepts.
    Component(usize),
    /// Negation.
    Not(Box<Formula>),
    /// Every one holds (true when empty).
    All(Vec<Formula>),
    /// At least one holds (false when empty).
    AnyOf(Vec<Formula>),
}

impl Formula {
    /// `!self`.
    pub fn negate(self) -> Formula {
        Formula::Not(Box::new(self))
    }

    /// Evaluates with component acceptance `accepts`.
    pub fn eval(&self, accepts: &dyn Fn(usize) -> bool) -> bool {
        match self {
            Formula::Component(i) => accepts(*i),
            Formula::Not(f) => !f.eval(accepts),
            Formula::All(fs) => fs.iter().all(|f| f.eval(accepts)),
            Formula::AnyOf(fs) => fs.iter().any(|f| f.eval(accepts)),
        }
    }

    /// Marks the components the formula reads.
    fn components(&self, used: &mut [bool]) {
        match self {
            Formula::Component(i) => used[*i] = true,
            Formula::Not(f) => f.components(used),
            Formula::All(fs) | Formula::AnyOf(fs) => fs.iter().for_each(|f| f.components(used)),
        }
    }

    /// The value for every continuation, when already decided: a component whose state
    /// set is empty never accepts again (`dead(i)`); a live one is unknown.
    fn settled(&self, dead: &dyn Fn(usize) -> bool) -> Option<bool> {
        match self {
            Formula::Component(i) => dead(*i).then_some(false),
            Formula::Not(f) => f.settled(dead).map(|b| !b),
            Formula::All(fs) => {
                let mut all_true = true;
                for f in fs {
                    match f.settled(dead) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => all_true = false,
                    }
                }
                all_true.then_some(true)
            }
            Formula::AnyOf(fs) => {
                let mut all_false = true;
                for f in fs {
                    match f.settled(dead) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => all_false = false,
                    }
                }
                all_false.then_some(false)
            }
        }
    }
}

/// A shortest string of a product's language, and which components accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// The string (each atom printed as its representative).
    pub text: String,
    /// For each component, whether it accepts `text`.
    pub accepted_by: Vec<bool>,
}

/// Searches the product of `components` breadth-first for a shortest string accepted
/// by `formula`. `None` proves the language empty. Explored states are bounded by
/// `max_states` (an error beyond it: the proof fails closed rather than guess).
pub fn shortest_witness(
    alphabet: &Alphabet,
    components: &[&CompiledNfa],
    formula: &Formula,
    max_states: usize,
) -> Result<Option<Witness>, ProductTooLarge> {
    let offsets: Vec<usize> = components
        .iter()
        .scan(0, |acc, c| {
            let at = *acc;
            *acc += c.words;
            Some(at)
        })
        .collect();
    let width: usize = components.iter().map(|c| c.words).sum();
    // Components the formula never reads are not stepped (their bits stay empty).
    let mut used = vec![false; components.len()];
    formula.components(&mut used);
    let start: Vec<u64> = components
        .iter()
        .zip(&used)
        .flat_map(|(c, used)| {
            if *used {
                c.start.clone()
            } else {
                vec![0; c.words]
            }
        })
        .collect();
    let slice = |i: usize| offsets[i]..offsets[i] + components[i].words;
    let dead_in = |state: &[u64], i: usize| state[slice(i)].iter().all(|w| *w == 0);
    let accepts_in = |state: &[u64], i: usize| components[i].accepts_set(&state[slice(i)]);

    let required: Vec<usize> = match formula {
        Formula::All(terms) => terms
            .iter()
            .filter_map(|t| match t {
                Formula::Component(i) => Some(*i),
                _ => None,
            })
            .collect(),
        Formula::Component(i) => vec![*i],
        _ => Vec::new(),
    };
    let mut index = StateMap::default();
    let mut states: Vec<Vec<u64>> = Vec::new();
    let mut parent: Vec<(usize, usize)> = Vec::new();
    if formula.settled(&|i| dead_in(&start, i)) == Some(false) {
        return Ok(None);
    }
    index.insert(start.clone(), 0);
    states.push(start);
    parent.push((usize::MAX, 0));
    let mut head = 0;
    let mut next = vec![0u64; width];
    let mut current = vec![0u64; width];
    while head < states.len() {
        current.copy_from_slice(&states[head]);
        if formula.eval(&|i| accepts_in(&current, i)) {
            let mut atoms = Vec::new();
            let mut at = head;
            while parent[at].0 != usize::MAX {
                atoms.push(parent[at].1);
                at = parent[at].0;
            }
            let text: String = atoms
                .iter()
                .rev()
                .map(|a| alphabet.representatives[*a])
                .collect();
            let accepted_by = (0..components.len())
                .map(|i| accepts_in(&current, i))
                .collect();
            return Ok(Some(Witness { text, accepted_by }));
        }
        'atoms: for atom in 0..alphabet.len() {
            // Components the formula requires step first: most atoms kill one of them
            // (the universe's fixed ARN prefix), and then the others need no step.
            for &i in &required {
                let range = slice(i);
                components[i].step(&current[range.clone()], atom, &mut next[range.clone()]);
                if next[range].iter().all(|w| *w == 0) {
                    continue 'atoms;
                }
            }
            for (i, c) in components.iter().enumerate() {
                if required.contains(&i) || !used[i] {
                    continue;
                }
                let range = slice(i);
                c.step(&current[range.clone()], atom, &mut next[range]);
            }
            if formula.settled(&|i| dead_in(&next, i)) == Some(false) {
                continue;
            }
            if !index.contains_key(&next) {
                if states.len() >= max_states {
                    return Err(ProductTooLarge { max_states });
                }
                index.insert(next.clone(), states.len());
                states.push(next.clone());
                parent.push((head, atom));
            }
        }
        head += 1;
    }
    Ok(None)
}

/// The product automaton grew beyond its bound: no verdict (a finding, never a pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the proof explored more than {max_states} product states without a verdict")]
pub struct ProductTooLarge {
    /// The bound.
    pub max_states: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alphabet(nfas: &[&Nfa]) -> Alphabet {
        Alphabet::new(
            CharSet::range('a', 'c').union(CharSet::of("/-")),
            nfas.iter().flat_map(|n| n.char_sets().collect::<Vec<_>>()),
        )
    }

    #[test]
    fn literal_star_and_union() {
        let ab = Nfa::literal("ab");
        let a_star = Nfa::literal("a").then(Nfa::star_of(CharSet::ANY));
        let either = Nfa::literal("c").or(Nfa::literal("b/"));
        let alpha = alphabet(&[&ab, &a_star, &either]);
        let (ab, a_star, either) = (
            ab.compile(&alpha),
            a_star.compile(&alpha),
            either.compile(&alpha),
        );
        assert!(ab.accepts(&alpha, "ab") && !ab.accepts(&alpha, "a") && !ab.accepts(&alpha, "abc"));
        assert!(a_star.accepts(&alpha, "a") && a_star.accepts(&alpha, "a/b-c"));
        assert!(!a_star.accepts(&alpha, "ba") && !a_star.accepts(&alpha, "az"));
        assert!(
            either.accepts(&alpha, "c")
                && either.accepts(&alpha, "b/")
                && !either.accepts(&alpha, "b")
        );
    }

    #[test]
    fn shortest_difference_and_emptiness() {
        let a_star = Nfa::literal("a").then(Nfa::star_of(CharSet::ANY));
        let a_slash = Nfa::literal("a/").then(Nfa::star_of(CharSet::ANY));
        let alpha = alphabet(&[&a_star, &a_slash]);
        let (wide, narrow) = (a_star.compile(&alpha), a_slash.compile(&alpha));
        let broader = Formula::All(vec![Formula::Component(0), Formula::Component(1).negate()]);
        let w = shortest_witness(&alpha, &[&wide, &narrow], &broader, 1000)
            .unwrap()
            .unwrap();
        assert_eq!(w.text, "a");
        assert_eq!(w.accepted_by, vec![true, false]);
        let inside = Formula::All(vec![Formula::Component(1), Formula::Component(0).negate()]);
        assert_eq!(
            shortest_witness(&alpha, &[&wide, &narrow], &inside, 1000).unwrap(),
            None
        );
    }
}
