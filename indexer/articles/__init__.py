"""Articles: Markdown files with YAML front matter -> validated ``Article`` objects.

=============  =============================================================================
``article``    the model: ``Article`` (and its ``Section`` list), ``ArticleError``
``stored``     the stored form: ``StoredArticle``, an article read back from a catalog row
``parser``     one file's text -> ``Article`` (with its ``ArticleWarning`` list) or
               ``ArticleError`` (file:line: message; every error of the file)
``categories`` ``categories.yml``: the categories an article may name, the default one
``links``      relative links and images of article files -> URLs; ``kb check``'s link check
``scan``       a folder -> articles and errors (``scan_articles``, ``load_articles``; one file:
               ``load_article_file``), reusing
               unchanged files' articles and stats
=============  =============================================================================
"""
from indexer.articles.article import Article, ArticleError
from indexer.articles.parser import PARSER_VERSION, parse_article
from indexer.articles.scan import Scan, load_article_file, load_articles, scan_articles
from indexer.articles.stored import RENDERED_FIELDS, StoredArticle

__all__ = ["PARSER_VERSION", "RENDERED_FIELDS", "Article", "ArticleError", "Scan",
           "StoredArticle", "load_article_file", "load_articles", "parse_article", "scan_articles"]
