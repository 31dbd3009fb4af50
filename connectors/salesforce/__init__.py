"""Salesforce: Knowledge articles, Cases with their comments, Accounts and Files, kept in sync by SystemModstamp."""
