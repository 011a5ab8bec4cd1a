"""Full-text search over post titles and descriptions: the one place that knows how.

Both databases fold case and accents and match word beginnings, so "Fiets" finds "fietsen",
"cafe" finds "café" and "bikes" finds "bike":

- SQLite: an FTS5 table `search_posts` (tokenizer `unicode61 remove_diacritics 2`) kept in step
  with `posts` by triggers.
- PostgreSQL: a stored generated column `posts.search_vector` (not in the model) with a GIN
  index: `search_post_vector(title, description)`, the 'simple' text search configuration over
  `unaccent` (a standard contrib extension). 'simple' rather than 'dutch' or 'english' because
  posts mix both languages in one neighbourhood; the light stemming below works the same for
  both, and the same on either database.

The migration (0030) creates these objects; they are named "search_…" so that model/migration
comparisons leave them alone. A later migration that rebuilds `posts` on SQLite (batch mode)
must create the triggers again; the search tests fail if it does not.

Query words are stemmed lightly (plural and verb endings cut: "fietsen" → "fiets", "bikes" →
"bike", "cooking" → "cook") and matched as prefixes; all words must match.
"""

import re
import unicodedata

import sqlalchemy as sa

from timebank.extensions import db
from timebank.market.models import Post

MAX_WORDS = 8
MAX_QUERY_LENGTH = 200
# Longest first; a cut must leave at least MIN_STEM letters.
ENDINGS = ("ingen", "ing", "en", "es", "s")
MIN_STEM = 4
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case without accents: 'Één Café' → 'een cafe'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def query_words(text: str) -> list[str]:
    """The stems to look for, at most MAX_WORDS of them; single letters are dropped."""
    words = [stem(w) for w in WORD.findall(fold(text[:MAX_QUERY_LENGTH])) if len(w) > 1]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def matching(text: str) -> sa.ColumnElement[bool] | None:
    """A condition on Post for posts that contain every word of `text`; None if it has no words."""
    words = query_words(text)
    if not words:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        return sa.literal_column("posts.search_vector").op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.func.search_fold(tsquery))
        )
    fts_query = " ".join(f'"{w}"*' for w in words)
    return Post.id.in_(
        sa.text("SELECT rowid FROM search_posts WHERE search_posts MATCH :fts_query").bindparams(fts_query=fts_query)
    )
