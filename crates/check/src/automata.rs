//! Finite automata over ASCII strings, built for exact proofs about glob languages
//! (static-proof.md): NFAs with ε-edges built by composition, compiled over a small
//! alphabet of character classes ("atoms": characters no automaton tells apart share
//! one), and a lazily explored product of several compiled NFAs whose acceptance is a
//! boolean [`Formula`] of its components. A breadth-first search over the product gives
//! a shortest member of the formula's language, or proves it empty. No sampling: every
//! string is covered.
//!
//! Cost (`cargo bench -p check`): compiled NFAs keep only the states that matter and
//! sparse edges; each component is determinized lazily during a search, so a product
//! state is one id per component; only atoms every required component can take are
//! tried; and one exploration answers several formulas over the same product.

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

/// A machine word a [`StateTable`] stores: `u64` for NFA state sets, `u32` for
/// product states (one determinized state id per component).
trait Word: Copy + Eq {
    fn to_u64(self) -> u64;
}

impl Word for u64 {
    fn to_u64(self) -> u64 {
        self
    }
}

impl Word for u32 {
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

/// Fixed-width states stored end to end in one vector, with an open-addressing index
/// over them: no allocation per state (a search's cost is mostly stepping and storing
/// states, so this matters).
struct StateTable<W> {
    width: usize,
    states: Vec<W>,
    /// Index + 1 of the state in each slot; 0 for an empty slot. Length: a power of two.
    slots: Vec<u32>,
}

impl<W: Word> StateTable<W> {
    fn new(width: usize) -> StateTable<W> {
        StateTable {
            width,
            states: Vec::new(),
            slots: vec![0; 64],
        }
    }

    fn len(&self) -> usize {
        self.states.len() / self.width
    }

    fn get(&self, index: usize) -> &[W] {
        &self.states[index * self.width..(index + 1) * self.width]
    }

    fn slot_of(&self, state: &[W]) -> usize {
        let mut hasher = StateHasher::default();
        state.iter().for_each(|w| hasher.write_u64(w.to_u64()));
        // The multiplicative hash mixes into the high bits.
        (hasher.finish() >> 32) as usize & (self.slots.len() - 1)
    }

    /// The index of `state`, added unless present, and whether it was added.
    fn insert(&mut self, state: &[W]) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot_of(state);
        loop {
            match self.slots[slot] {
                0 => break,
                i if self.get(i as usize - 1) == state => return (i as usize - 1, false),
                _ => slot = (slot + 1) & mask,
            }
        }
        self.states.extend_from_slice(state);
        let index = self.len() - 1;
        self.slots[slot] = self.len() as u32;
        if self.len() * 2 > self.slots.len() {
            self.grow();
        }
        (index, true)
    }

    fn grow(&mut self) {
        self.slots = vec![0; self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for index in 0..self.len() {
            let mut slot = self.slot_of(self.get(index));
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index as u32 + 1;
        }
    }
}

/// One component of a product, determinized as the search goes (subset construction,
/// lazily): each state set it reaches gets an id, and each (id, atom) step is computed
/// once. A product state is then one id per component, and a product step one table
/// lookup per component — the product revisits the same sets of each component many
/// times.
struct LazyDfa<'a> {
    nfa: &'a CompiledNfa,
    sets: StateTable<u64>,
    /// `next[id * atoms + atom]`, [`UNKNOWN`] until computed.
    next: Vec<u32>,
    accepting: Vec<bool>,
    dead: Vec<bool>,
    /// The atoms on which each set goes somewhere: the search tries only those.
    live_atoms: Vec<u128>,
}

const UNKNOWN: u32 = u32::MAX;

impl<'a> LazyDfa<'a> {
    fn new(nfa: &'a CompiledNfa) -> LazyDfa<'a> {
        LazyDfa {
            nfa,
            sets: StateTable::new(nfa.words),
            next: Vec::new(),
            accepting: Vec::new(),
            dead: Vec::new(),
            live_atoms: Vec::new(),
        }
    }

    fn intern(&mut self, set: &[u64]) -> u32 {
        let (id, added) = self.sets.insert(set);
        if added {
            self.next
                .extend(std::iter::repeat_n(UNKNOWN, self.nfa.atoms));
            self.accepting.push(self.nfa.accepts_set(set));
            self.dead.push(set.iter().all(|w| *w == 0));
            let mut live = 0;
            for (w, &word) in set.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    live |= self.nfa.out_atoms[w * 64 + bits.trailing_zeros() as usize];
                    bits &= bits - 1;
                }
            }
            self.live_atoms.push(live);
        }
        id as u32
    }

    fn step(&mut self, id: u32, atom: usize, scratch: &mut [u64]) -> u32 {
        let at = id as usize * self.nfa.atoms + atom;
        if self.next[at] == UNKNOWN {
            self.nfa.step(self.sets.get(id as usize), atom, scratch);
            let next = self.intern(scratch);
            self.next[at] = next;
        }
        self.next[at]
    }
}

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
        Nfa::chain(text.chars().map(CharSet::single))
    }

    /// One character of each set in turn: a chain of states without ε-edges (a
    /// literal ARN prefix is fifty characters; composing it with `then` would cost a
    /// state and an ε-edge per character).
    fn chain(sets: impl IntoIterator<Item = CharSet>) -> Nfa {
        let mut nfa = Nfa::nothing();
        let mut last = 0;
        for set in sets {
            let next = nfa.add_state();
            // An empty set (a non-ASCII character) leaves the end unreachable.
            nfa.add_edge(last, set, next);
            last = next;
        }
        nfa.accepting[last] = true;
        nfa
    }

    /// Any string over `set`, including the empty one.
    pub fn star_of(set: CharSet) -> Nfa {
        let mut nfa = Nfa::empty_string();
        nfa.add_edge(0, set, 0);
        nfa
    }

    /// Exactly `n` characters from `set`.
    pub fn repeat(set: CharSet, n: usize) -> Nfa {
        Nfa::chain(std::iter::repeat_n(set, n))
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
    /// and only the states that matter kept — those with a character edge or accepting
    /// (a state with only ε-edges is already stood for by its closure), and only if they
    /// can still reach acceptance (so an empty state set means "never accepts from
    /// here"). Fewer states make every step of a product search cheaper.
    pub fn compile(&self, alphabet: &Alphabet) -> CompiledNfa {
        let n = self.edges.len();
        let old_words = n.div_ceil(64).max(1);
        // ε-closure of every state, once (depth-first over ε-edges).
        let mut closures = vec![0u64; n * old_words];
        for s in 0..n {
            let mut stack = vec![s];
            let own = &mut closures[s * old_words..(s + 1) * old_words];
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
        let mut live = vec![false; n];
        let mut stack: Vec<usize> = (0..n).filter(|&s| self.accepting[s]).collect();
        for &s in &stack {
            live[s] = true;
        }
        while let Some(s) = stack.pop() {
            for &p in &reverse[s] {
                if !live[p] {
                    live[p] = true;
                    stack.push(p);
                }
            }
        }
        // The kept states, renumbered densely.
        let mut renumbered = vec![usize::MAX; n];
        let mut kept = 0;
        for s in 0..n {
            if live[s] && (self.accepting[s] || !self.edges[s].is_empty()) {
                renumbered[s] = kept;
                kept += 1;
            }
        }
        let words = kept.div_ceil(64).max(1);
        // The kept states of a closure, in the new numbering.
        let project = |closure: &[u64], into: &mut [u64]| {
            for (w, &word) in closure.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let s = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if renumbered[s] != usize::MAX {
                        set_bit(into, renumbered[s]);
                    }
                }
            }
        };
        let mut targets = vec![0u64; n * words];
        for s in 0..n {
            project(
                &closures[s * old_words..(s + 1) * old_words],
                &mut targets[s * words..(s + 1) * words],
            );
        }
        let atoms = alphabet.atoms.len();
        // Sparse transitions: the NFAs of globs have one or two edges a state, so each
        // kept state lists its edges (the atoms they take, the closure they reach)
        // instead of a dense (state, atom) table.
        let mut edge_starts = Vec::with_capacity(kept + 1);
        let mut edges = Vec::new();
        let mut out_atoms = Vec::with_capacity(kept);
        for s in (0..n).filter(|&s| renumbered[s] != usize::MAX) {
            edge_starts.push(edges.len() as u32);
            let mut out = 0u128;
            for &(set, t) in &self.edges[s] {
                if targets[t * words..(t + 1) * words].iter().all(|w| *w == 0) {
                    continue;
                }
                // Atoms refine every edge set: meeting one means containing it.
                let mask = alphabet
                    .atoms
                    .iter()
                    .enumerate()
                    .filter(|(_, atom)| !set.intersect(**atom).is_empty())
                    .fold(0u128, |mask, (a, _)| mask | 1 << a);
                if mask != 0 {
                    edges.push((mask, t as u32));
                    out |= mask;
                }
            }
            out_atoms.push(out);
        }
        edge_starts.push(edges.len() as u32);
        let mut start = vec![0u64; words];
        for &s in &self.starts {
            for (o, c) in start.iter_mut().zip(&targets[s * words..(s + 1) * words]) {
                *o |= c;
            }
        }
        let mut accept = vec![0u64; words];
        for s in (0..n).filter(|&s| self.accepting[s] && renumbered[s] != usize::MAX) {
            set_bit(&mut accept, renumbered[s]);
        }
        CompiledNfa {
            states: n,
            words,
            atoms,
            start,
            accept,
            edge_starts,
            edges,
            targets,
            out_atoms,
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
        // Automata repeat the same few sets on many edges: refine by each once.
        let mut sets: Vec<u128> = sets.into_iter().map(|set| set.0).collect();
        sets.sort_unstable();
        sets.dedup();
        let mut atoms = vec![universe];
        for set in sets.into_iter().map(CharSet) {
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
    /// The edges of kept state `s`: `edges[edge_starts[s]..edge_starts[s + 1]]`.
    edge_starts: Vec<u32>,
    /// An edge: the atoms it takes (bit `a`) and the state (before renumbering) whose
    /// closure it reaches.
    edges: Vec<(u128, u32)>,
    /// The ε-closure of every state before renumbering, as a set of kept states.
    targets: Vec<u64>,
    /// For each kept state, the atoms (bit `a`) on which it has a next state.
    out_atoms: Vec<u128>,
}

impl CompiledNfa {
    fn step(&self, from: &[u64], atom: usize, into: &mut [u64]) {
        into.fill(0);
        for (w, &word) in from.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let s = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let edges = self.edge_starts[s] as usize..self.edge_starts[s + 1] as usize;
                for &(mask, target) in &self.edges[edges] {
                    if mask & (1 << atom) != 0 {
                        let at = target as usize * self.words;
                        for (next, t) in into.iter_mut().zip(&self.targets[at..]) {
                            *next |= t;
                        }
                    }
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

    /// Whether the formula is false whenever component `i` rejects (it is `i` or a
    /// conjunction with `i` as a term).
    fn requires(&self, i: usize) -> bool {
        match self {
            Formula::Component(c) => *c == i,
            Formula::All(terms) => terms.iter().any(|t| t.requires(i)),
            _ => false,
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
    /// For each component, whether it accepts `text` (exact for the components the
    /// searched formulas read; `false` for the others, which are not stepped).
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
    let mut found = shortest_witnesses(
        alphabet,
        components,
        std::slice::from_ref(formula),
        max_states,
    )?;
    Ok(found.pop().flatten())
}

/// [`shortest_witness`] for several formulas over the same product, in one
/// exploration: a proof asks "broader?" and "narrower?" of the same automata, and the
/// product states both searches visit are mostly the same. The answer for each formula
/// is the same as its own search's.
pub fn shortest_witnesses(
    alphabet: &Alphabet,
    components: &[&CompiledNfa],
    formulas: &[Formula],
    max_states: usize,
) -> Result<Vec<Option<Witness>>, ProductTooLarge> {
    // Components no formula reads are not stepped (they stay at the empty set).
    let mut used = vec![false; components.len()];
    formulas.iter().for_each(|f| f.components(&mut used));
    let mut dfas: Vec<LazyDfa> = components.iter().map(|c| LazyDfa::new(c)).collect();
    let mut scratch: Vec<Vec<u64>> = components.iter().map(|c| vec![0; c.words]).collect();
    let start: Vec<u32> = dfas
        .iter_mut()
        .zip(&used)
        .map(|(dfa, used)| {
            let start = if *used {
                dfa.nfa.start.clone()
            } else {
                vec![0; dfa.nfa.words]
            };
            dfa.intern(&start)
        })
        .collect();
    // Components every formula requires: an atom that kills one ends every search.
    let required: Vec<usize> = (0..components.len())
        .filter(|&i| formulas.iter().all(|f| f.requires(i)))
        .collect();
    let others: Vec<usize> = (0..components.len())
        .filter(|i| used[*i] && !required.contains(i))
        .collect();
    let dead_in = |dfas: &[LazyDfa], state: &[u32], i: usize| dfas[i].dead[state[i] as usize];
    let accepts_in =
        |dfas: &[LazyDfa], state: &[u32], i: usize| dfas[i].accepting[state[i] as usize];
    // A formula depends only on which components are dead (or accept), and few
    // combinations occur: its verdicts are kept per combination instead of walking it
    // at every step.
    let mut settled_by_dead: Vec<_> = formulas
        .iter()
        .map(|f| FormulaCache::new(components.len(), |dead| f.settled(dead)))
        .collect();
    let mut holds_by_accepting: Vec<_> = formulas
        .iter()
        .map(|f| FormulaCache::new(components.len(), |accepts| Some(f.eval(accepts))))
        .collect();
    let mut found: Vec<Option<Witness>> = vec![None; formulas.len()];
    let mut searching: Vec<bool> = settled_by_dead
        .iter_mut()
        .map(|cache| cache.get(|i| dead_in(&dfas, &start, i)) != Some(false))
        .collect();
    let every_atom = (0..alphabet.len()).fold(0u128, |mask, a| mask | 1 << a);
    let mut states = StateTable::new(components.len().max(1));
    states.insert(&start);
    let mut parent: Vec<(usize, usize)> = vec![(usize::MAX, 0)];
    let mut head = 0;
    let mut next = start.clone();
    let mut current = start;
    while head < states.len() && searching.iter().any(|s| *s) {
        current.copy_from_slice(states.get(head));
        for f in 0..formulas.len() {
            if searching[f]
                && holds_by_accepting[f].get(|i| accepts_in(&dfas, &current, i)) == Some(true)
            {
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
                    .map(|i| accepts_in(&dfas, &current, i))
                    .collect();
                found[f] = Some(Witness { text, accepted_by });
                searching[f] = false;
            }
        }
        // Only atoms on which every required component goes on: most atoms kill one
        // of them (the universe's fixed ARN prefix).
        let mut candidates = required.iter().fold(every_atom, |mask, &i| {
            mask & dfas[i].live_atoms[current[i] as usize]
        });
        while candidates != 0 {
            let atom = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            for &i in required.iter().chain(&others) {
                next[i] = dfas[i].step(current[i], atom, &mut scratch[i]);
            }
            // Pruned when no formula still searched can accept any continuation.
            let hopeless = (0..formulas.len()).all(|f| {
                !searching[f] || settled_by_dead[f].get(|i| dead_in(&dfas, &next, i)) == Some(false)
            });
            if hopeless {
                continue;
            }
            if states.insert(&next).1 {
                if states.len() > max_states {
                    return Err(ProductTooLarge { max_states });
                }
                parent.push((head, atom));
            }
        }
        // Subset construction can blow up: its sets count against the same bound.
        if dfas.iter().map(|d| d.sets.len()).sum::<usize>() > max_states {
            return Err(ProductTooLarge { max_states });
        }
        head += 1;
    }
    Ok(found)
}

/// A formula's value memoized per combination of per-component flags (the bits of a
/// `u128` key; a formula over more than 128 components is evaluated every time).
struct FormulaCache<F> {
    components: usize,
    compute: F,
    values: HashMap<u128, Option<bool>, BuildHasherDefault<StateHasher>>,
}

impl<F: Fn(&dyn Fn(usize) -> bool) -> Option<bool>> FormulaCache<F> {
    fn new(components: usize, compute: F) -> FormulaCache<F> {
        FormulaCache {
            components,
            compute,
            values: HashMap::default(),
        }
    }

    fn get(&mut self, flag: impl Fn(usize) -> bool) -> Option<bool> {
        if self.components > 128 {
            return (self.compute)(&flag);
        }
        let key = (0..self.components)
            .filter(|&i| flag(i))
            .fold(0u128, |key, i| key | 1 << i);
        *self
            .values
            .entry(key)
            .or_insert_with(|| (self.compute)(&|i| key & (1 << i) != 0))
    }
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

    /// One exploration for several formulas answers each as its own search does, also
    /// when one formula is settled early and another needs the states it gave up.
    #[test]
    fn several_formulas_answer_as_each_alone() {
        let a_star = Nfa::literal("a").then(Nfa::star_of(CharSet::ANY));
        let a_slash_b = Nfa::literal("a/b").then(Nfa::star_of(CharSet::ANY));
        let c_or_ab = Nfa::literal("c").or(Nfa::literal("ab"));
        let alpha = alphabet(&[&a_star, &a_slash_b, &c_or_ab]);
        let compiled = [
            a_star.compile(&alpha),
            a_slash_b.compile(&alpha),
            c_or_ab.compile(&alpha),
        ];
        let components: Vec<&CompiledNfa> = compiled.iter().collect();
        let c = Formula::Component;
        let formulas = vec![
            Formula::All(vec![c(0), c(1).negate()]),
            Formula::All(vec![c(1), c(0).negate()]),
            Formula::All(vec![c(0), c(1)]),
            c(2),
            Formula::All(vec![c(2).negate(), c(1)]),
        ];
        let together = shortest_witnesses(&alpha, &components, &formulas, 1000).unwrap();
        for (formula, found) in formulas.iter().zip(together) {
            let alone = shortest_witness(&alpha, &components, formula, 1000).unwrap();
            assert_eq!(
                found.as_ref().map(|w| &w.text),
                alone.as_ref().map(|w| &w.text),
                "{formula:?}"
            );
            // Acceptance is exact for the components the formula reads.
            let mut read = vec![false; components.len()];
            formula.components(&mut read);
            let read_by = |w: &Witness| {
                (0..read.len())
                    .filter(|&i| read[i])
                    .map(|i| w.accepted_by[i])
                    .collect::<Vec<_>>()
            };
            assert_eq!(found.as_ref().map(read_by), alone.as_ref().map(read_by));
        }
    }
}
